/**
 * The service manager a plan is installed into: systemd (`systemctl`, `journalctl`) or launchd
 * (`launchctl`). Every call goes through `run`, and a manager that is not there (no systemd as
 * PID 1, no user session bus, not macOS) is one clear line and exit 1, never a half-done install.
 */
import { spawn, spawnSync } from 'node:child_process';
import { ExitError, exitCodes } from '../output.ts';
import type { ServicePlan } from './plan.ts';

export interface ServiceState {
  /** The manager knows the service (its file is loaded). */
  loaded: boolean;
  running: boolean;
  enabled: boolean | null;
  pid: number | null;
  /** The manager's own words: `active (running)`, `inactive (dead)`, `state = running`... */
  detail: string;
  /** A gateway's watchdog timer or job. */
  watchdog: { name: string; active: boolean; detail: string } | null;
}

export interface ServiceManager {
  /** `systemd (user)`, `launchd (system)`... */
  readonly name: string;
  /** Why it cannot be used here, or undefined when it can. */
  unavailable(): string | undefined;
  /** After the files are written: load, enable and start. */
  install(plan: ServicePlan): void;
  /** Before the files are removed: stop and unload. */
  uninstall(plan: ServicePlan): void;
  start(plan: ServicePlan): void;
  stop(plan: ServicePlan): void;
  restart(plan: ServicePlan): void;
  status(plan: ServicePlan): ServiceState;
  /** Prints the service's log; resolves with the exit code. */
  logs(plan: ServicePlan, lines: number, follow: boolean): Promise<number>;
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a manager command to its end; a missing program is code 127 with a message. */
export function run(command: string, args: string[]): Ran {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error)
    return {
      code: 127,
      stdout: '',
      stderr: `${command}: ${(result.error as NodeJS.ErrnoException).code ?? result.error.message}`,
    };
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs it and fails the command with the manager's own first line when it fails. */
export function runOrFail(command: string, args: string[], doing: string): Ran {
  const ran = run(command, args);
  if (ran.code !== 0)
    throw new ExitError(
      exitCodes.failure,
      `${doing} failed: \`${command} ${args.join(' ')}\` said: ${firstLine(ran) || `exit ${ran.code}`}`,
    );
  return ran;
}

/** A command whose output goes straight to this terminal (logs, `-f`). */
export function runInherited(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.once('error', (err) => {
      process.stderr.write(`gantry: ${command}: ${err.message}\n`);
      resolve(exitCodes.failure);
    });
    child.once('exit', (code) => resolve(code ?? exitCodes.failure));
  });
}

export function firstLine(ran: Ran): string {
  return (ran.stderr.trim() || ran.stdout.trim()).split('\n')[0]?.trim() ?? '';
}

/** Fails with one line when the manager cannot be used here. */
export function ensureAvailable(manager: ServiceManager, what: string): void {
  const why = manager.unavailable();
  if (why === undefined) return;
  throw new ExitError(
    exitCodes.failure,
    `cannot ${what}: ${manager.name} is not available here (${why}). Without a service manager, run \`gantry gateway start\` and keep it alive with \`gantry gateway watchdog\`; \`--dry-run\` shows the files an install would write`,
  );
}
