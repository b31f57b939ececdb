/** systemd as a service manager: `systemctl [--user]` and `journalctl [--user]`. */
import { unitNames } from './names.ts';
import { ensureAvailable, run, runInherited, runOrFail, type ServiceManager } from './manager.ts';
import type { ServicePlan } from './plan.ts';

/** States of `systemctl is-system-running` in which the manager takes commands. */
const usable = new Set(['running', 'degraded', 'starting', 'initializing', 'maintenance']);

export function systemd(system: boolean): ServiceManager {
  const scope = system ? [] : ['--user'];
  const systemctl = (args: string[], doing: string) => runOrFail('systemctl', [...scope, ...args], doing);
  const watchdogTimer = (plan: ServicePlan) =>
    plan.target.kind === 'gateway' ? [unitNames.gateway.watchdogTimer] : [];
  const manager: ServiceManager = {
    name: `systemd (${system ? 'system' : 'user'})`,
    unavailable() {
      const ran = run('systemctl', [...scope, 'is-system-running']);
      const state = ran.stdout.trim();
      if (usable.has(state)) return undefined;
      const said = ran.stderr.trim().split('\n')[0] || state || `exit ${ran.code}`;
      return state === 'offline'
        ? `systemctl says "offline": systemd is not this machine's init (PID 1), or ${system ? 'it' : 'this user'} has no running manager`
        : `systemctl says "${said}"`;
    },
    install(plan) {
      systemctl(['daemon-reload'], 'reloading systemd');
      systemctl(['enable', '--now', ...plan.enable], `enabling ${plan.enable.join(', ')}`);
    },
    uninstall(plan) {
      systemctl(['disable', '--now', ...plan.enable], `disabling ${plan.enable.join(', ')}`);
      const rest = plan.all.filter((unit) => !plan.enable.includes(unit));
      if (rest.length > 0) run('systemctl', [...scope, 'stop', ...rest]);
    },
    start(plan) {
      systemctl(['start', plan.main, ...watchdogTimer(plan)], `starting ${plan.main}`);
    },
    stop(plan) {
      // The watchdog's timer stops too, or it would start the service again within a minute.
      systemctl(['stop', ...watchdogTimer(plan), plan.main], `stopping ${plan.main}`);
    },
    restart(plan) {
      systemctl(['restart', plan.main], `restarting ${plan.main}`);
      if (watchdogTimer(plan).length > 0)
        systemctl(['start', ...watchdogTimer(plan)], 'starting the watchdog timer');
    },
    status(plan) {
      const main = show(scope, plan.main);
      const timer = watchdogTimer(plan)[0];
      const watchdog = timer ? show(scope, timer) : undefined;
      return {
        loaded: main.LoadState === 'loaded',
        running: main.ActiveState === 'active',
        enabled: main.UnitFileState ? main.UnitFileState === 'enabled' : null,
        pid: Number(main.MainPID) > 0 ? Number(main.MainPID) : null,
        detail: `${main.ActiveState ?? 'unknown'} (${main.SubState ?? 'unknown'})`,
        watchdog:
          timer && watchdog
            ? {
                name: timer,
                active: watchdog.ActiveState === 'active',
                detail: `${watchdog.ActiveState ?? 'unknown'} (${watchdog.SubState ?? 'unknown'})`,
              }
            : null,
      };
    },
    logs(plan, lines, follow) {
      ensureAvailable(manager, 'show the logs');
      const units = plan.all.filter((unit) => unit.endsWith('.service')).flatMap((unit) => ['-u', unit]);
      return runInherited('journalctl', [
        ...scope,
        ...units,
        '-n',
        String(lines),
        '--no-pager',
        ...(follow ? ['-f'] : []),
      ]);
    },
  };
  return manager;
}

function show(scope: string[], unit: string): Partial<Record<string, string>> {
  const ran = runOrFail(
    'systemctl',
    [...scope, 'show', unit, '-p', 'LoadState,ActiveState,SubState,UnitFileState,MainPID'],
    `reading the state of ${unit}`,
  );
  return Object.fromEntries(
    ran.stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
