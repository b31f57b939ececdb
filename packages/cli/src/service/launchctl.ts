/**
 * launchd as a service manager: `launchctl bootstrap|bootout|kickstart|print` in the user's GUI
 * domain (a LaunchAgent) or the system domain (a LaunchDaemon). `stop` unloads the jobs (their
 * files stay), so neither KeepAlive nor the watchdog starts the gateway again; `start` loads them.
 */
import { join } from 'node:path';
import { ensureAvailable, run, runInherited, runOrFail, type ServiceManager } from './manager.ts';
import type { ServicePlan } from './plan.ts';

export function launchd(system: boolean, uid: number): ServiceManager {
  const domain = system ? 'system' : `gui/${uid}`;
  const plistOf = (plan: ServicePlan, label: string) =>
    plan.files.find((file) => file.path.endsWith(`/${label}.plist`))?.path ?? label;
  const loaded = (label: string) => run('launchctl', ['print', `${domain}/${label}`]);
  const load = (plan: ServicePlan) => {
    for (const label of plan.all)
      if (loaded(label).code !== 0)
        runOrFail('launchctl', ['bootstrap', domain, plistOf(plan, label)], `loading ${label}`);
  };
  const unload = (plan: ServicePlan) => {
    for (const label of plan.all)
      if (loaded(label).code === 0)
        runOrFail('launchctl', ['bootout', `${domain}/${label}`], `unloading ${label}`);
  };
  const manager: ServiceManager = {
    name: `launchd (${system ? 'system' : 'user'})`,
    unavailable() {
      const ran = run('launchctl', ['print', domain]);
      if (ran.code === 0) return undefined;
      return ran.code === 127
        ? 'launchctl not found: launchd is the service manager of macOS'
        : ran.stderr.trim() || `exit ${ran.code}`;
    },
    install: load,
    uninstall: unload,
    start(plan) {
      load(plan);
      runOrFail('launchctl', ['kickstart', `${domain}/${plan.main}`], `starting ${plan.main}`);
    },
    stop: unload,
    restart(plan) {
      load(plan);
      runOrFail('launchctl', ['kickstart', '-k', `${domain}/${plan.main}`], `restarting ${plan.main}`);
    },
    status(plan) {
      const main = fields(loaded(plan.main).stdout);
      const watchdogLabel = plan.all.find((label) => label !== plan.main);
      const watchdog = watchdogLabel ? loaded(watchdogLabel) : undefined;
      const pid = Number(main.pid);
      return {
        loaded: main.state !== undefined,
        running: main.state === 'running',
        enabled: main.state !== undefined,
        pid: Number.isInteger(pid) && pid > 0 ? pid : null,
        detail: main.state ? `state = ${main.state}` : 'not loaded',
        watchdog:
          watchdogLabel && watchdog
            ? {
                name: watchdogLabel,
                active: watchdog.code === 0,
                detail: watchdog.code === 0 ? 'loaded' : 'not loaded',
              }
            : null,
      };
    },
    logs(plan, lines, follow) {
      ensureAvailable(manager, 'show the logs');
      const files = plan.all.map((label) =>
        join(plan.target.dataDir, 'logs', `${label.replace('dev.gantry.', '')}.launchd.log`),
      );
      return runInherited('tail', ['-n', String(lines), ...(follow ? ['-F'] : []), ...files]);
    },
  };
  return manager;
}

/** `key = value` lines of `launchctl print`, top level only. */
function fields(text: string): Partial<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const match of text.matchAll(/^\t(\w[\w ]*?) = (.*)$/gm))
    if (match[1] && match[2]) out[match[1]] ??= match[2];
  return out;
}
