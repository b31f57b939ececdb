/**
 * The names a service goes by (systemd units, launchd labels), where its files go, and what a
 * service is given to run: the inputs of `plan.ts`.
 */
import { join } from 'node:path';

export type ServiceKind = 'gateway' | 'hub';
export type Platform = 'linux' | 'darwin';

export interface ServiceTarget {
  kind: ServiceKind;
  platform: Platform;
  /** A system unit (root installs it) running as `user`, instead of the user's own service manager. */
  system: boolean;
  user: { name: string; uid: number; home: string };
  /** The gantry command: `[node, .../gantry.js]` or an executable. */
  command: string[];
  /** Flags for the long-running command (`--port`, `--config`, a hub's `--data-dir`...). */
  args: string[];
  /** Settings that are not secrets (PATH, GANTRY_HOME, ...): a unit never holds a credential. */
  environment: Record<string, string>;
  /** The config folder: `service.env` there (0600, optional) is where a unit's secrets go. */
  configDir: string;
  /** The data folder: launchd's output files go in `logs/` there. */
  dataDir: string;
}

export const unitNames = {
  gateway: {
    service: 'gantry-gateway.service',
    watchdogService: 'gantry-gateway-watchdog.service',
    watchdogTimer: 'gantry-gateway-watchdog.timer',
  },
  hub: { service: 'gantry-hub.service' },
} as const;

export const launchdLabels = {
  gateway: { service: 'dev.gantry.gateway', watchdog: 'dev.gantry.gateway-watchdog' },
  hub: { service: 'dev.gantry.hub' },
} as const;

/** Whether the process runs under a service manager, and which, as the units tell it (`GANTRY_SERVICE_MANAGER`). */
export type ManagerName = 'systemd-user' | 'systemd-system' | 'launchd-user' | 'launchd-system';

export function managerName(target: Pick<ServiceTarget, 'platform' | 'system'>): ManagerName {
  return `${target.platform === 'linux' ? 'systemd' : 'launchd'}-${target.system ? 'system' : 'user'}`;
}

/** The folder the service files go in. */
export function serviceDir(target: Pick<ServiceTarget, 'platform' | 'system' | 'user'>, env = process.env) {
  if (target.platform === 'linux') {
    if (target.system) return '/etc/systemd/system';
    return join(env.XDG_CONFIG_HOME || join(target.user.home, '.config'), 'systemd', 'user');
  }
  return target.system ? '/Library/LaunchDaemons' : join(target.user.home, 'Library', 'LaunchAgents');
}

/** How long a stop waits for a gateway to stop its runs and deliver their results. */
export const gatewayStopTimeoutSec = 120;
