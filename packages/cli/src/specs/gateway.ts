/** `gateway` (this machine's), `gateways` and `audit` (the hub's view of them). */
import { Option, type Command } from 'commander';
import { collect, providerOptions } from '../provider-options.ts';
import { topCommand } from './top-level.ts';
import { gatewayOperations } from './operations.ts';
import { action, hubOptions, withJson } from './options.ts';

const load = {
  devices: () => import('../commands/devices.ts'),
  gateway: () => import('../commands/gateway.ts'),
  gatewayBind: () => import('../commands/gateway-bind.ts'),
  gatewayDaemon: () => import('../commands/gateway-daemon.ts'),
  config: () => import('../commands/config.ts'),
  gatewayLogs: () => import('../commands/gateway-logs.ts'),
  gatewayStatus: () => import('../commands/gateway-status.ts'),
  gatewayHubs: () => import('../commands/gateway-hubs.ts'),
  worktrees: () => import('../commands/worktrees.ts'),
};

export function gatewaySpec(program: Command): void {
  const gateway = topCommand(program, 'gateway');
  const connectOptions = (cmd: Command) =>
    cmd
      .option('--hub <url>', 'hub URL (or GANTRY_HUB_URL; --server-url is an alias)')
      .addOption(new Option('--server-url <url>', 'alias of --hub').hideHelp())
      .option('--provider <name>', 'provider: codex, claude-code, acp, ollama, generic or echo')
      .option('--api-key <key>', "an agent's key; `-` reads it from standard input (or GANTRY_API_KEY)")
      .option('--api-key-file <path>', "a file holding the agent's key (kept out of the process list)")
      .option('--gateway-name <name>', "this gateway's name (default: host name; GANTRY_GATEWAY_NAME)")
      .option('--workspace-root <dir>', 'workdir for agents with no binding (GANTRY_WORKSPACE_ROOT)')
      .option('--provider-bin <path>', 'command the generic or acp provider runs (or GANTRY_GENERIC_BIN)')
      .option('--config <file>', 'settings file (default: config.toml in the config folder)');
  const withProviderOptions = (cmd: Command) => providerOptions(connectOptions(cmd));
  const startOptions = (cmd: Command) =>
    withJson(
      cmd
        .option('--provider-arg <arg>', 'extra provider argument (repeat per token)', collect)
        .addOption(new Option('--provider-option <arg>', 'alias of --provider-arg').argParser(collect))
        .option(
          '--port <port>',
          'local API port (GANTRY_GATEWAY_PORT; default: the one saved at connect, else 7421)',
        )
        .option('--concurrency <n>', 'attempts at once (default 4)')
        .option(
          '--outbox-max-mb <mb>',
          'outbox budget during a hub outage before providers are slowed (default 512)',
        ),
      'print the gateway as JSON once connected (or after 3 s, with connected: false)',
    );

  withJson(
    withProviderOptions(gateway.command('connect'))
      .description('register this machine as a gateway for an agent and save the session')
      .option('--provider-arg <arg>', 'provider argument to save (repeat per token)', collect)
      .option('--port <port>', 'local API port to save for `gateway start` (GANTRY_GATEWAY_PORT)'),
  ).action(action(load.gateway, 'connect'));
  startOptions(
    gateway
      .command('start')
      .description('run the gateway daemon from the saved session')
      .option('--hub <url>', 'override the saved hub URL (or GANTRY_HUB_URL; --server-url is an alias)')
      .addOption(new Option('--server-url <url>', 'alias of --hub').hideHelp())
      .option('--api-key <key>', 'override the saved agent key; `-` reads it from standard input')
      .option('--api-key-file <path>', 'override the saved agent key with the one in this file')
      .option('--config <file>', 'settings file (default: config.toml in the config folder)')
      .option(
        '--detach',
        'run in the background (pid file, log file; `gateway stop|restart|status|logs` manage it)',
      ),
  ).action(action(load.gateway, 'start'));
  startOptions(withProviderOptions(gateway.command('run')))
    .description('connect if needed, then start (see the README for the decision table)')
    .action(action(load.gateway, 'runGateway'));
  withJson(
    providerOptions(
      gateway
        .command('bind')
        .description('bind an agent to a provider and working folder on this gateway')
        .requiredOption('--agent <agent>', 'agent id or name')
        .option('--provider <name>', 'provider for this agent')
        .option('--workdir <path>', 'working folder (default: the current folder)')
        .option('--provider-bin <path>', 'command for the generic or acp provider')
        .option('--parallel', 'allow several runs in the workdir at once'),
      { isolation: true },
    ),
  ).action(action(load.gatewayBind, 'bind'));
  withJson(
    gateway
      .command('status')
      .description(
        "this machine's gateway: running or not (exit 0 / 3), pid, uptime, hubs, agents, runs, outbox, last error",
      ),
  ).action(action(load.gatewayStatus, 'status'));
  const hubs = gateway.command('hubs').description('the hub systems this gateway serves');
  withJson(
    hubs.command('list').description('each hub with its hubId, gateway id, connection state and agents'),
  ).action(action(load.gatewayHubs, 'list'));
  withJson(
    hubs
      .command('remove <hub>')
      .description(
        "stop serving a hub (its URL, hubId or this gateway's id there) and forget its credentials",
      )
      .option('--force', 'remove it even with runs in flight or results not yet delivered (they are lost)'),
  ).action(action(load.gatewayHubs, 'remove'));
  withJson(
    gateway
      .command('stop')
      .description(
        'stop the running gateway (its runs are stopped and handed back); returns once it has exited',
      )
      .option('--drain', 'take no new work, let running work finish and deliver every result, then exit')
      .option('--timeout <duration>', 'with --drain: stop what is still running after this long (e.g. 10m)'),
  ).action(action(load.gatewayDaemon, 'stop'));
  withJson(
    gateway
      .command('restart')
      .description('stop the gateway and start it in the background with the settings it was started with')
      .option('--config <file>', 'start it with this settings file instead of the one it was started with'),
  ).action(action(load.gatewayDaemon, 'restart'));
  gateway
    .command('logs')
    .description("the gateway's log file: the last lines, and with -f what comes next")
    .option('-n, --lines <n>', 'how many of the last lines (default 50)')
    .option('-f, --follow', 'keep printing new lines until Ctrl+C')
    .action(action(load.gatewayLogs, 'logs'));

  const config = topCommand(program, 'config');
  withJson(
    config
      .command('show')
      .description(
        'each gateway setting: its effective value and where it came from (flag, environment, file, session, default)',
      )
      .option(
        '--config <file>',
        'settings file (default: GANTRY_CONFIG, then config.toml in the config folder)',
      )
      .option('--hub <url>', 'hub URL, as the gateway commands take it')
      .option('--port <port>', 'local API port, as `gateway start` takes it'),
    'JSON output: { configFile, configFileExists, settings: [{ key, value, source, from }] }',
  ).action(action(load.config, 'show'));

  const worktrees = gateway
    .command('worktrees')
    .description('git worktrees of runs on bindings with --isolation worktree');
  withJson(
    worktrees.command('list').description('worktrees this gateway made, with their branch and assignment'),
  ).action(action(load.worktrees, 'listWorktreesCommand'));
  withJson(
    worktrees
      .command('prune')
      .description('remove the worktrees of finished runs (their gantry/<id> branches stay)')
      .option('--all', 'also remove worktrees with uncommitted changes and folders whose repository is gone'),
  ).action(action(load.worktrees, 'pruneWorktreesCommand'));

  const gateways = topCommand(program, 'gateways');
  withJson(
    hubOptions(gateways.command('list')).description('list gateways with their agents and last contact'),
  ).action(action(load.devices, 'listGateways'));
  withJson(
    hubOptions(gateways.command('show <id>')).description(
      'a gateway: device fingerprint, approval state, last seen, agents with their bindings',
    ),
  ).action(action(load.devices, 'showGateway'));

  const audit = topCommand(program, 'audit');
  withJson(
    hubOptions(audit.command('list'))
      .description('audit entries, newest first: trust decisions, binding changes, approvals')
      .option('--limit <n>', 'at most N', '100'),
  ).action(action(load.devices, 'listAudit'));
  gatewayOperations(gateway);
}
