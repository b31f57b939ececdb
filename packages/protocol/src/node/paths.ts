/**
 * Where the gateway and CLI keep their files (DESIGN §7). `GANTRY_HOME` overrides everything:
 * `$GANTRY_HOME/config`, `$GANTRY_HOME/data`, `$GANTRY_HOME/workspaces` (the workspace root: each
 * agent bound without a folder runs in its own `<workspace root>/<agent name>`).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface GantryPaths {
  config: string;
  data: string;
  defaultWorkspaceRoot: string;
  sessionFile: string;
  bindingsFile: string;
  userFile: string;
  configFile: string;
  localApiTokenFile: string;
  localApiAddressFile: string;
  gatewayDb: string;
  hubDb: string;
  runDir: string;
  /** Git worktrees of `--isolation worktree` runs: a folder per repository, in it one per assignment. */
  worktreeDir: string;
  /** The running daemon's pid (the one-daemon lock). */
  pidFile: string;
  /** How the daemon was last started (settings, pid, log), so `restart` and the watchdog reuse it. */
  daemonFile: string;
  /** The daemon's log (size-rotated: gateway.log, gateway.log.1, ...). */
  logFile: string;
}

export function gantryPaths(env: NodeJS.ProcessEnv = process.env): GantryPaths {
  const home = env.GANTRY_HOME;
  const userHome = env.HOME || homedir();
  const config = home
    ? join(home, 'config')
    : join(env.XDG_CONFIG_HOME || join(userHome, '.config'), 'gantry');
  const data = home
    ? join(home, 'data')
    : join(env.XDG_DATA_HOME || join(userHome, '.local', 'share'), 'gantry');
  const defaultWorkspaceRoot = home ? join(home, 'workspaces') : join(userHome, 'gantry-workspaces');
  return {
    config,
    data,
    defaultWorkspaceRoot,
    sessionFile: join(config, 'gateway-session.json'),
    bindingsFile: join(config, 'logical-sessions.json'),
    userFile: join(config, 'user.json'),
    configFile: join(config, 'config.toml'),
    localApiTokenFile: join(config, 'local-api.token'),
    localApiAddressFile: join(config, 'local-api.json'),
    gatewayDb: join(data, 'gateway.db'),
    hubDb: join(data, 'hub.db'),
    runDir: join(data, 'run'),
    worktreeDir: join(data, 'worktrees'),
    pidFile: join(data, 'gateway.pid'),
    daemonFile: join(data, 'daemon.json'),
    logFile: join(data, 'logs', 'gateway.log'),
  };
}
