/**
 * `gantry gateway service ...` and `gantry hub service ...`: install (or `--dry-run`: print) the
 * units or plists of `service/plan.ts`, and drive them through the service manager.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GantryError } from '@gantry/protocol';
import { gantryPaths } from '@gantry/gateway';
import { ExitError, exitCodes, printJson, printLine } from '../output.ts';
import { stopDaemon } from './gateway-daemon.ts';
import { ensureAvailable, run, type ServiceManager } from '../service/manager.ts';
import { launchd } from '../service/launchctl.ts';
import type { ServiceKind, ServiceTarget } from '../service/names.ts';
import { servicePlan, type ServicePlan } from '../service/plan.ts';
import { systemd } from '../service/systemctl.ts';
import { serviceTarget, type ServiceFlags } from '../service/target.ts';
import { readWatchdogState } from '../service/watchdog-state.ts';

interface LogFlags extends ServiceFlags {
  lines?: string;
  follow?: boolean;
}

export const gatewayInstall = (flags: ServiceFlags) => install('gateway', flags);
export const gatewayUninstall = (flags: ServiceFlags) => uninstall('gateway', flags);
export const gatewayStart = (flags: ServiceFlags) => control('gateway', 'start', flags);
export const gatewayStop = (flags: ServiceFlags) => control('gateway', 'stop', flags);
export const gatewayRestart = (flags: ServiceFlags) => control('gateway', 'restart', flags);
export const gatewayStatus = (flags: ServiceFlags) => status('gateway', flags);
export const gatewayLogs = (flags: LogFlags) => logs('gateway', flags);
export const hubInstall = (flags: ServiceFlags) => install('hub', flags);
export const hubUninstall = (flags: ServiceFlags) => uninstall('hub', flags);
export const hubStart = (flags: ServiceFlags) => control('hub', 'start', flags);
export const hubStop = (flags: ServiceFlags) => control('hub', 'stop', flags);
export const hubRestart = (flags: ServiceFlags) => control('hub', 'restart', flags);
export const hubStatus = (flags: ServiceFlags) => status('hub', flags);
export const hubLogs = (flags: LogFlags) => logs('hub', flags);

export function managerFor(target: Pick<ServiceTarget, 'platform' | 'system' | 'user'>): ServiceManager {
  return target.platform === 'linux' ? systemd(target.system) : launchd(target.system, target.user.uid);
}

async function install(kind: ServiceKind, flags: ServiceFlags): Promise<void> {
  const plan = servicePlan(serviceTarget(kind, flags));
  const warnings = lingerWarning(plan.target);
  for (const warning of warnings) process.stderr.write(`gantry: warning: ${warning}\n`);
  if (flags.dryRun) {
    if (flags.json) return printJson({ files: plan.files });
    for (const file of plan.files) printLine(`# ${file.path}\n${file.content}`);
    return;
  }
  const manager = managerFor(plan.target);
  ensureAvailable(manager, `install the ${kind} service`);
  for (const file of plan.files) writeServiceFile(file.path, file.content);
  if (plan.target.platform === 'darwin')
    mkdirSync(join(plan.target.dataDir, 'logs'), { recursive: true, mode: 0o700 });
  manager.install(plan);
  if (flags.json)
    return printJson({ files: plan.files, enabled: plan.enable, manager: manager.name, warnings });
  printLine(`Installed ${plan.enable.join(' and ')} with ${manager.name}; running now and at every start.`);
  for (const file of plan.files) printLine(`  ${file.path}`);
  printLine(`See it with \`gantry ${kind} service status\` and \`gantry ${kind} service logs\`.`);
}

async function uninstall(kind: ServiceKind, flags: ServiceFlags): Promise<void> {
  const plan = servicePlan(serviceTarget(kind, { ...flags, dryRun: true }));
  const present = plan.files.filter((file) => existsSync(file.path)).map((file) => file.path);
  if (flags.dryRun) {
    if (flags.json) return printJson({ files: present.map((path) => ({ path })) });
    return printLine(present.length ? `Would remove:\n  ${present.join('\n  ')}` : 'Nothing installed.');
  }
  const manager = managerFor(plan.target);
  ensureAvailable(manager, `uninstall the ${kind} service`);
  if (present.length === 0)
    throw new GantryError('not_found', `the ${kind} service is not installed (${plan.files[0]?.path ?? ''})`);
  manager.uninstall(plan);
  for (const path of present) rmSync(path, { force: true });
  if (plan.target.platform === 'linux')
    run('systemctl', [...(plan.target.system ? [] : ['--user']), 'daemon-reload']);
  if (flags.json) return printJson({ removed: present });
  printLine(`Stopped and removed the ${kind} service:\n  ${present.join('\n  ')}`);
}

async function control(
  kind: ServiceKind,
  verb: 'start' | 'stop' | 'restart',
  flags: ServiceFlags,
): Promise<void> {
  const { plan, manager } = installed(kind, flags, `${verb} the ${kind} service`);
  // A gateway hands its runs over, as `gateway restart` does: it exits leaving them running, and the
  // fresh process the manager starts takes them back. A plain stop stops them.
  if (kind === 'gateway' && verb === 'restart') await stopDaemon(gantryPaths(), 'handover');
  manager[verb](plan);
  const state = manager.status(plan);
  if (flags.json) return printJson({ service: plan.main, ...state });
  printLine(`${plan.main}: ${state.detail}${state.pid ? `, pid ${state.pid}` : ''}`);
}

async function status(kind: ServiceKind, flags: ServiceFlags): Promise<void> {
  const { plan, manager } = installed(kind, flags, `read the ${kind} service's state`);
  const state = manager.status(plan);
  const watchdogState = kind === 'gateway' ? readWatchdogState() : null;
  process.exitCode = state.running ? exitCodes.ok : exitCodes.notFound;
  const view = {
    service: plan.main,
    manager: manager.name,
    files: plan.files.map((f) => f.path),
    ...state,
    watchdogState,
  };
  if (flags.json) return printJson(view);
  printLine(
    `Service   ${plan.main} (${manager.name}): ${state.detail}${state.pid ? `, pid ${state.pid}` : ''}`,
  );
  printLine(
    `Enabled   ${state.enabled === null ? 'unknown' : state.enabled ? 'yes, starts with the machine' : 'no'}`,
  );
  if (state.watchdog) printLine(`Watchdog  ${state.watchdog.name}: ${state.watchdog.detail}`);
  if (watchdogState)
    printLine(
      `Checks    last ${watchdogState.lastCheckAt ?? 'never'}: ${watchdogState.consecutiveFailures} failure(s) in a row`,
    );
}

async function logs(kind: ServiceKind, flags: LogFlags): Promise<void> {
  const lines = Number(flags.lines ?? 100);
  if (!Number.isInteger(lines) || lines < 0)
    throw new GantryError('invalid_request', '--lines must be a whole number');
  const { plan, manager } = installed(kind, flags, `show the ${kind} service's logs`);
  process.exitCode = await manager.logs(plan, lines, flags.follow === true);
}

/** The plan and manager of an installed service; a missing manager or service is one clear line. */
function installed(kind: ServiceKind, flags: ServiceFlags, what: string) {
  const plan: ServicePlan = servicePlan(serviceTarget(kind, { ...flags, dryRun: true }));
  const manager = managerFor(plan.target);
  ensureAvailable(manager, what);
  if (!plan.files.some((file) => existsSync(file.path)))
    throw new GantryError(
      'not_found',
      `the ${kind} service is not installed: run \`gantry ${kind} service install\``,
    );
  return { plan, manager };
}

function writeServiceFile(path: string, content: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode: 0o644 });
    chmodSync(path, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new ExitError(
        exitCodes.failure,
        `cannot write ${path} (${code}): a system service is installed as root, e.g. with sudo`,
      );
    throw err;
  }
}

/** A user service stops when its user logs out unless lingering is on (systemd-logind). */
function lingerWarning(target: ServiceTarget): string[] {
  if (target.platform !== 'linux' || target.system || process.platform !== 'linux') return [];
  const ran = run('loginctl', ['show-user', target.user.name, '-p', 'Linger']);
  if (ran.stdout.trim() !== 'Linger=no') return [];
  return [
    `lingering is off for ${target.user.name}: the ${target.kind} stops when you log out and starts only when you log in. Run: loginctl enable-linger ${target.user.name}`,
  ];
}
