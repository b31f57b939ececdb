/**
 * What `gantry gateway|hub service install` writes, as data: each file's path and content for
 * systemd (Linux) or launchd (macOS), user or system scope. Nothing here touches the machine; the
 * inputs (who, where, which command) are gathered by `target.ts`.
 */
import { join } from 'node:path';
import { launchdPlist } from './launchd.ts';
import { launchdLabels, serviceDir, unitNames, type ServiceTarget } from './names.ts';
import { systemdUnits } from './systemd.ts';

export interface ServiceFile {
  path: string;
  content: string;
}

export interface ServicePlan {
  target: ServiceTarget;
  files: ServiceFile[];
  /** The long-running service: a systemd unit name or a launchd label. */
  main: string;
  /** What is enabled and started at install: the service, and for a gateway its watchdog timer. */
  enable: string[];
  /** Every unit or label, for stop/disable at uninstall. */
  all: string[];
}

export function servicePlan(target: ServiceTarget): ServicePlan {
  const dir = serviceDir(target);
  if (target.platform === 'linux') {
    const names = target.kind === 'gateway' ? unitNames.gateway : unitNames.hub;
    const units = systemdUnits(target);
    const files = Object.entries(units).map(([name, content]) => ({ path: join(dir, name), content }));
    const enable =
      target.kind === 'gateway'
        ? [unitNames.gateway.service, unitNames.gateway.watchdogTimer]
        : [unitNames.hub.service];
    return { target, files, main: names.service, enable, all: Object.keys(units) };
  }
  const labels = target.kind === 'gateway' ? launchdLabels.gateway : launchdLabels.hub;
  const all = Object.values(labels) as string[];
  const files = all.map((label) => ({
    path: join(dir, `${label}.plist`),
    content: launchdPlist(target, label),
  }));
  return { target, files, main: labels.service, enable: all, all };
}
