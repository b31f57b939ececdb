/**
 * One watchdog check: the gateway's health, and on failure one restart — through the service
 * manager that runs it when there is one, directly (a detached `gateway start`) otherwise — then a
 * wait to see it answer. The count of failures is kept in `watchdog-state.json`; after three
 * restarts in a row that did not bring it back, every check logs a critical line.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, openSync, closeSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive, type GantryPaths } from '@gantry/gateway';
import { readDaemonRecord, startArguments } from '../daemon-record.ts';
import { checkHealth, commandLine, type Health } from './gateway-health.ts';
import { run } from './manager.ts';
import { launchdLabels, serviceDir, unitNames, type ManagerName } from './names.ts';
import { readWatchdogState, writeWatchdogState, type WatchdogState } from './watchdog-state.ts';

export interface WatchdogOptions {
  paths: GantryPaths;
  /** The local API port to check when no gateway has recorded its address, and to start one on. */
  port: number;
  config?: string;
  timeoutMs: number;
  restartTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export interface CheckReport {
  at: string;
  /** healthy; restarted (and answering again); failed (still down); idle (nothing to watch or stopped on purpose). */
  outcome: 'healthy' | 'restarted' | 'failed' | 'idle';
  health: Health;
  recovery: { how: string; detail: string } | null;
  state: WatchdogState;
  /** The critical line, when this check logged one. */
  critical: string | null;
}

const criticalAfter = 3;

export async function watchdogCheck(options: WatchdogOptions): Promise<CheckReport> {
  const { paths } = options;
  const env = options.env ?? process.env;
  const at = new Date().toISOString();
  const health = await checkHealth(paths, options.port, options.timeoutMs);
  const state = readWatchdogState(paths);
  state.lastCheckAt = at;
  const report = (
    outcome: CheckReport['outcome'],
    recovery: CheckReport['recovery'] = null,
    critical: string | null = null,
  ) => {
    writeWatchdogState(state, paths);
    return { at, outcome, health, recovery, state, critical };
  };
  if (health.healthy) {
    Object.assign(state, { consecutiveFailures: 0, failedRecoveries: 0, lastOkAt: at });
    return report('healthy');
  }
  const manager = governingManager(env);
  if (manager && stoppedOnPurpose(manager))
    return report('idle', { how: manager, detail: 'the service was stopped on purpose' });
  if (!manager && !existsSync(paths.sessionFile))
    return report('idle', {
      how: 'none',
      detail: 'no gateway is set up here yet: run `gantry gateway connect`',
    });

  state.consecutiveFailures += 1;
  state.lastFailure = { at, reason: `${health.reason}: ${health.detail}` };
  if (health.pid !== null) await killStale(health.pid);
  const how = manager ?? 'direct';
  const started = restart(how, options, health);
  const revived = await waitHealthy(options, started.exited);
  const detail = revived
    ? `answering again (${started.detail})`
    : `${started.detail}; ${revived === false ? 'it did not answer' : 'it exited'} within ${options.restartTimeoutMs} ms`;
  state.lastRecovery = { at, how, detail };
  let critical: string | null = null;
  if (revived) state.failedRecoveries = 0;
  else {
    state.failedRecoveries += 1;
    if (state.failedRecoveries >= criticalAfter)
      critical = `the gateway is still down after ${state.failedRecoveries} restarts in a row (${state.lastFailure.reason}; last: ${detail}); see \`gantry gateway service logs\` or the log in ${join(paths.data, 'logs')}, and \`gantry gateway doctor\``;
  }
  logLine(
    paths,
    revived ? 'warn' : critical ? 'critical' : 'error',
    `gateway ${health.reason} (${health.detail}): restarted via ${how}, ${detail}`,
  );
  if (critical) logLine(paths, 'critical', critical);
  return report(revived ? 'restarted' : 'failed', { how, detail }, critical);
}

/** The manager running the gateway: the one whose unit started this check, or an installed unit's. */
function governingManager(env: NodeJS.ProcessEnv): ManagerName | undefined {
  const named = env.GANTRY_SERVICE_MANAGER;
  if (
    named === 'systemd-user' ||
    named === 'systemd-system' ||
    named === 'launchd-user' ||
    named === 'launchd-system'
  )
    return named;
  const user = { name: '', uid: process.getuid?.() ?? 0, home: env.HOME ?? '' };
  for (const system of [false, true]) {
    if (process.platform === 'linux') {
      const unit = join(serviceDir({ platform: 'linux', system, user }, env), unitNames.gateway.service);
      const scope = system ? [] : ['--user'];
      if (existsSync(unit) && run('systemctl', [...scope, 'is-system-running']).code !== 127) {
        const state = run('systemctl', [
          ...scope,
          'show',
          unitNames.gateway.service,
          '-p',
          'LoadState',
        ]).stdout.trim();
        if (state === 'LoadState=loaded') return system ? 'systemd-system' : 'systemd-user';
      }
    } else if (process.platform === 'darwin') {
      const plist = join(
        serviceDir({ platform: 'darwin', system, user }, env),
        `${launchdLabels.gateway.service}.plist`,
      );
      if (existsSync(plist) && run('launchctl', ['print', launchdTarget(system)]).code === 0)
        return system ? 'launchd-system' : 'launchd-user';
    }
  }
  return undefined;
}

function launchdTarget(system: boolean): string {
  return `${system ? 'system' : `gui/${process.getuid?.() ?? 0}`}/${launchdLabels.gateway.service}`;
}

/** A stop someone asked for (`systemctl stop`, `gantry gateway service stop`) is not a failure. */
function stoppedOnPurpose(manager: ManagerName): boolean {
  if (manager.startsWith('launchd'))
    return run('launchctl', ['print', launchdTarget(manager === 'launchd-system')]).code !== 0;
  const scope = manager === 'systemd-user' ? ['--user'] : [];
  const shown = run('systemctl', [
    ...scope,
    'show',
    unitNames.gateway.service,
    '-p',
    'ActiveState,Result',
  ]).stdout;
  return /ActiveState=inactive/.test(shown) && /Result=success/.test(shown);
}

/**
 * A hung or deaf gateway is beyond a polite stop: SIGKILL, if the pid is still a gantry gateway,
 * and a wait until it is reaped (its pid lock counts it as running until then).
 */
async function killStale(pid: number): Promise<void> {
  if (!/gantry|gateway/.test(commandLine(pid))) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // gone meanwhile
  }
  for (const until = Date.now() + 10_000; processAlive(pid) && Date.now() < until;)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

interface Started {
  detail: string;
  /** Resolves with the exit code if a directly started gateway ends before it answers. */
  exited: Promise<number | null> | undefined;
}

function restart(how: ManagerName | 'direct', options: WatchdogOptions, health: Health): Started {
  switch (how) {
    case 'systemd-user':
      return fromManager(
        run('systemctl', ['--user', 'restart', unitNames.gateway.service]),
        'systemctl --user restart',
      );
    case 'systemd-system':
      // Its user may not restart a system unit; a killed gateway is restarted by the unit itself.
      return { detail: 'left to systemd (Restart=on-failure)', exited: undefined };
    case 'launchd-user':
    case 'launchd-system':
      return fromManager(
        run('launchctl', ['kickstart', '-k', launchdTarget(how === 'launchd-system')]),
        'launchctl kickstart -k',
      );
    case 'direct':
      return startDetached(options, health);
  }
}

function fromManager(ran: ReturnType<typeof run>, what: string): Started {
  if (ran.code === 0) return { detail: what, exited: undefined };
  const said = (ran.stderr.trim() || ran.stdout.trim()).split('\n')[0] ?? `exit ${ran.code}`;
  return { detail: `${what} failed: ${said}`, exited: Promise.resolve(ran.code) };
}

/**
 * `gantry gateway start` in the background with the settings it last ran with (`daemon.json`), on
 * the port the old one used; what it prints before its own log opens goes to a log here.
 */
function startDetached(options: WatchdogOptions, health: Health): Started {
  const port = Number(new URL(health.url).port) || options.port;
  const script = process.argv[1] ?? '';
  // The settings it was last started with (daemon.json), on the port the old one used.
  const recorded = readDaemonRecord(options.paths)?.settings ?? { providerArgs: [] };
  const settings = { ...recorded, port, ...(options.config ? { config: options.config } : {}) };
  const args = [
    existsSync(script) ? realpathSync(script) : script,
    'gateway',
    'start',
    ...startArguments(settings),
  ];
  const logs = join(options.paths.data, 'logs');
  mkdirSync(logs, { recursive: true, mode: 0o700 });
  const out = openSync(join(logs, 'watchdog-start.log'), 'a', 0o600);
  const { GANTRY_SERVICE_MANAGER: _manager, ...env } = options.env ?? process.env;
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...env, GANTRY_DAEMON_MODE: 'detached' },
  });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(127));
  });
  child.unref();
  return { detail: `started pid ${child.pid ?? '?'} on port ${port}`, exited };
}

/** True once it answers, false if it did not in time, null if a started gateway exited first. */
async function waitHealthy(
  options: WatchdogOptions,
  exited: Promise<number | null> | undefined,
): Promise<boolean | null> {
  let ended = false;
  void exited?.then(() => (ended = true));
  const until = Date.now() + options.restartTimeoutMs;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const health = await checkHealth(options.paths, options.port, Math.min(options.timeoutMs, 2000));
    if (health.healthy) return true;
    if (ended) return null;
  }
  return false;
}

/** One line to standard error (the journal, under systemd: `<2>` marks it critical there) and to logs/watchdog.log. */
function logLine(paths: GantryPaths, level: 'warn' | 'error' | 'critical', message: string): void {
  const line = `${new Date().toISOString()} ${level} watchdog: ${message}\n`;
  const priority = { warn: '<4>', error: '<3>', critical: '<2>' }[level];
  process.stderr.write(process.env.JOURNAL_STREAM ? `${priority}${line}` : line);
  try {
    const logs = join(paths.data, 'logs');
    mkdirSync(logs, { recursive: true, mode: 0o700 });
    appendFileSync(join(logs, 'watchdog.log'), line, { mode: 0o600 });
  } catch {
    // standard error has it
  }
}
