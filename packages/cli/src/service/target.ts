/**
 * What a service runs, as whom and with what, from the install flags and this process: the gantry
 * command (this one, or `--gantry-bin`), the user, the flags for the long-running command, and the
 * environment a service may carry. Only settings that are not secrets are copied into a unit:
 * tokens and keys come from the files the gateway already keeps, or from `service.env`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { GantryError } from '@gantry/protocol';
import { gantryPaths } from '@gantry/gateway';
import { parsePort } from '../lifecycle.ts';
import { run } from './manager.ts';
import type { Platform, ServiceKind, ServiceTarget } from './names.ts';

export interface ServiceFlags {
  system?: boolean;
  gantryBin?: string;
  dryRun?: boolean;
  platform?: string;
  json?: boolean;
  port?: string;
  config?: string;
  host?: string;
  dataDir?: string;
}

/** Settings a service needs to find the same folders and programs as this shell; none is a secret. */
const carried = ['PATH', 'GANTRY_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'CODEX_HOME', 'OLLAMA_HOST'];

export function platformOf(flags: ServiceFlags): Platform {
  const platform = flags.platform ?? process.platform;
  if (platform === 'linux' || platform === 'darwin') return platform;
  throw new GantryError(
    'invalid_request',
    `services are made for Linux (systemd) and macOS (launchd), not ${platform}: run \`gantry gateway start\` and \`gantry gateway watchdog\` instead`,
  );
}

/** PATH as a service should keep it: each folder once, without npm's own helpers (`npx` adds them). */
export function servicePath(path: string): string {
  const folders = path.split(':').filter((folder) => folder && !folder.includes('@npmcli/run-script'));
  return [...new Set(folders)].join(':');
}

export function serviceTarget(kind: ServiceKind, flags: ServiceFlags, env = process.env): ServiceTarget {
  const platform = platformOf(flags);
  if (platform !== process.platform && !flags.dryRun)
    throw new GantryError(
      'invalid_request',
      `--platform ${platform} on ${process.platform} writes nothing here: add --dry-run to see its files`,
    );
  const user = owner(flags.system === true, env);
  const paths = gantryPaths({ ...env, HOME: user.home });
  const environment: Record<string, string> = {};
  for (const name of carried) {
    const value = env[name];
    if (value) environment[name] = name === 'PATH' ? servicePath(value) : resolve(value);
  }
  return {
    kind,
    platform,
    system: flags.system === true,
    user,
    command: gantryCommand(flags),
    args: kind === 'gateway' ? gatewayArgs(flags) : hubArgs(flags),
    environment,
    configDir: paths.config,
    dataDir: flags.dataDir && kind === 'hub' ? resolve(flags.dataDir) : paths.data,
  };
}

/** Whom the service runs as: this user, or under `sudo` for a system unit the user who ran sudo. */
function owner(system: boolean, env: NodeJS.ProcessEnv): ServiceTarget['user'] {
  const me = userInfo();
  if (system && me.uid === 0 && env.SUDO_USER && env.SUDO_UID) {
    const entry = run('getent', ['passwd', env.SUDO_USER]).stdout.split(':');
    const home =
      entry[5] || (process.platform === 'darwin' ? `/Users/${env.SUDO_USER}` : `/home/${env.SUDO_USER}`);
    return { name: env.SUDO_USER, uid: Number(env.SUDO_UID), home };
  }
  return { name: me.username, uid: me.uid, home: env.HOME || me.homedir };
}

/** `--gantry-bin PATH` (a script runs through this Node), or this very command. */
function gantryCommand(flags: ServiceFlags): string[] {
  if (flags.gantryBin) {
    const bin = resolve(flags.gantryBin);
    if (!flags.dryRun && !existsSync(bin))
      throw new GantryError('invalid_request', `--gantry-bin ${bin} does not exist`);
    return /\.[cm]?js$/.test(bin) ? [process.execPath, bin] : [bin];
  }
  const script = process.argv[1];
  if (!script || !isAbsolute(script))
    throw new GantryError('invalid_request', 'cannot tell where this gantry is: pass --gantry-bin PATH');
  return [process.execPath, existsSync(script) ? realpathSync(script) : script];
}

function gatewayArgs(flags: ServiceFlags): string[] {
  return [
    ...(flags.port !== undefined ? ['--port', String(parsePort(flags.port, 0))] : []),
    ...(flags.config !== undefined ? ['--config', resolve(flags.config)] : []),
  ];
}

function hubArgs(flags: ServiceFlags): string[] {
  return [
    ...(flags.host !== undefined ? ['--host', flags.host] : []),
    ...(flags.port !== undefined ? ['--port', String(parsePort(flags.port, 0))] : []),
    ...(flags.dataDir !== undefined ? ['--data-dir', resolve(flags.dataDir)] : []),
  ];
}
