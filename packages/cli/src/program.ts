/**
 * The `gantry` command tree. Options are declared here; each command's code lives in
 * `commands/` and is loaded only when that command runs.
 */
import { Command, CommanderError, Option } from 'commander';
import { version } from '@gantry/protocol';
import { exitCodes, reportError } from './output.ts';
import { collect, providerOptions } from './provider-options.ts';

type Loader = () => Promise<Record<string, unknown>>;
const load = {
  up: () => import('./commands/up.ts'),
  hub: () => import('./commands/hub.ts'),
  login: () => import('./commands/login.ts'),
  agents: () => import('./commands/agents.ts'),
  assign: () => import('./commands/assign.ts'),
  assignments: () => import('./commands/assignments.ts'),
  gateway: () => import('./commands/gateway.ts'),
  worktrees: () => import('./commands/worktrees.ts'),
  approvals: () => import('./commands/approvals.ts'),
} satisfies Record<string, Loader>;

/** Runs `fn` from a lazily loaded module; errors become a message and an exit code. */
function action(loader: Loader, fn: string) {
  return async (...args: unknown[]) => {
    const options = (args.at(-2) ?? {}) as { json?: boolean };
    try {
      const mod = await loader();
      await (mod[fn] as (...a: unknown[]) => Promise<void>)(...args.slice(0, -1));
    } catch (err) {
      process.exitCode = reportError(err, options.json === true);
    }
  };
}

function hubCommand(cmd: Command): Command {
  return cmd
    .option('--hub <url>', 'hub URL (default: GANTRY_HUB_URL, then your login)')
    .option('--token <token>', 'credential (default: GANTRY_TOKEN, then your login)');
}

function buildProgram(): Command {
  const program = new Command('gantry')
    .description('Gantry: bring AI coding agents online — dispatch work to agents on your machines')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('up')
    .description('start a local hub, a gateway on this machine and an `echo` agent, and log this CLI in')
    .option('--port <port>', 'hub port', '7420')
    .option('--gateway-port <port>', "gateway's local API port", '7421')
    .option('--data-dir <dir>', 'where the hub keeps its database and owner token')
    .option('--json', 'print the addresses as JSON once ready')
    .action(action(load.up, 'up'));

  const hub = program.command('hub').description('run a hub');
  hub
    .command('start')
    .description('run a hub in the foreground')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '7420')
    .option(
      '--db <db>',
      'SQLite file or postgres:// URL (default: GANTRY_DATABASE_URL, then hub.db in the data folder)',
    )
    .option('--data-dir <dir>', 'where the hub keeps its files')
    .option('--lease-ms <ms>', 'lease of a claimed attempt (GANTRY_LEASE_MS)')
    .option('--heartbeat-ms <ms>', 'gateway heartbeat interval (GANTRY_HEARTBEAT_MS)')
    .option('--grace-ms <ms>', 'how long a lost gateway may take to come back (GANTRY_GRACE_MS)')
    .option(
      '--queue-ttl-ms <ms>',
      'queued work no gateway picks up in this time expires (GANTRY_QUEUE_TTL_MS)',
    )
    .option('--json', 'print the address and first-start token as JSON once ready')
    .action(action(load.hub, 'hubStart'));

  hubCommand(program.command('login'))
    .description('log this CLI in to a hub')
    .requiredOption('--url <url>', 'hub URL')
    .option('--json', 'JSON output')
    .action(action(load.login, 'login'));
  hubCommand(program.command('whoami'))
    .description('who this CLI acts as, on which hub')
    .option('--json', 'JSON output')
    .action(action(load.login, 'whoami'));

  const agents = program.command('agents').description('agents of the workspace');
  hubCommand(agents.command('create <name>'))
    .description('create a managed agent and print its key (shown once)')
    .option('--json', 'JSON output with id, name, key')
    .action(action(load.agents, 'create'));
  hubCommand(agents.command('list'))
    .description('list agents')
    .option('--json', 'JSON output')
    .action(action(load.agents, 'list'));

  hubCommand(program.command('assign <agent> <prompt>'))
    .description('give an agent work')
    .option('--session <key>', 'conversation key (default: "default")')
    .option('--continue', "continue the agent's conversation for the session key")
    .option(
      '--resume-fallback <fail|new>',
      'when --continue cannot resume the provider session: fail (default) or start a new one',
    )
    .option('--timeout <duration>', 'run timeout, e.g. 30s, 10m, 2h (default 60m)')
    .option('--retries <n>', 'extra attempts if the gateway is lost mid-run', '0')
    .option('--wait [duration]', 'wait for the end (at most DURATION; exit 124 if it runs longer)')
    .option('--follow', 'stream events until the end')
    .option('--json', 'JSON output')
    .action(action(load.assign, 'assign'));

  const assignments = program.command('assignments').description('assignments of the workspace');
  hubCommand(assignments.command('list'))
    .description('list assignments, newest first')
    .option('--agent <agent>', 'only this agent (id or name)')
    .option('--state <state>', 'only this state')
    .option('--limit <n>', 'at most N', '50')
    .option('--json', 'JSON output')
    .action(action(load.assignments, 'list'));
  hubCommand(assignments.command('show <id>'))
    .description('show one assignment')
    .option('--json', 'JSON output')
    .action(action(load.assignments, 'show'));
  hubCommand(assignments.command('events <id>'))
    .description("an assignment's events")
    .option('--follow', 'keep following until the assignment ends')
    .option('--json', 'JSON output (an array; with --follow one object per line)')
    .action(action(load.assignments, 'events'));
  hubCommand(assignments.command('cancel <id>'))
    .description('cancel an assignment (a running one stops its whole process group)')
    .option('--json', 'JSON output')
    .action(action(load.assignments, 'cancel'));

  const gateway = program.command('gateway').description("this machine's gateway");
  const connectOptions = (cmd: Command) =>
    cmd
      .option('--server-url <url>', 'hub URL')
      .option('--provider <name>', 'provider: codex, claude-code, acp, ollama, generic or echo')
      .option('--api-key <key>', "an agent's key (or GANTRY_API_KEY)")
      .option('--gateway-name <name>', "this gateway's name (default: host name)")
      .option('--workspace-root <dir>', 'workdir for agents with no binding')
      .option('--provider-bin <path>', 'command the generic or acp provider runs (or GANTRY_GENERIC_BIN)')
      .option('--config <file>', 'settings file (default: config.toml in the config folder)');
  const withProviderOptions = (cmd: Command) => providerOptions(connectOptions(cmd));
  const startOptions = (cmd: Command) =>
    cmd
      .option('--provider-arg <arg>', 'extra provider argument (repeat per token)', collect)
      .addOption(new Option('--provider-option <arg>', 'alias of --provider-arg').argParser(collect))
      .option('--port <port>', 'local API port (default 7421)')
      .option('--concurrency <n>', 'attempts at once (default 4)')
      .option(
        '--outbox-max-mb <mb>',
        'outbox budget during a hub outage before providers are slowed (default 512)',
      )
      .option('--json', 'print the gateway as JSON once connected (or after 3 s, with connected: false)');

  withProviderOptions(gateway.command('connect'))
    .description('register this machine as a gateway for an agent and save the session')
    .option('--provider-arg <arg>', 'provider argument to save (repeat per token)', collect)
    .option('--json', 'JSON output')
    .action(action(load.gateway, 'connect'));
  startOptions(
    gateway
      .command('start')
      .description('run the gateway daemon from the saved session')
      .option('--server-url <url>', 'override the saved hub URL')
      .option('--api-key <key>', 'override the saved agent key'),
  ).action(action(load.gateway, 'start'));
  startOptions(withProviderOptions(gateway.command('run')))
    .description('connect if needed, then start (see the README for the decision table)')
    .action(action(load.gateway, 'runGateway'));
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
  )
    .option('--json', 'JSON output')
    .action(action(load.gateway, 'bind'));
  gateway
    .command('status')
    .description("this machine's gateway: connected or not, agents, running attempts, outbox")
    .option('--json', 'JSON output')
    .action(action(load.gateway, 'status'));

  const worktrees = gateway
    .command('worktrees')
    .description('git worktrees of runs on bindings with --isolation worktree');
  worktrees
    .command('list')
    .description('worktrees this gateway made, with their branch and assignment')
    .option('--json', 'JSON output')
    .action(action(load.worktrees, 'listWorktreesCommand'));
  worktrees
    .command('prune')
    .description('remove the worktrees of finished runs (their gantry/<id> branches stay)')
    .option('--all', 'also remove worktrees with uncommitted changes and folders whose repository is gone')
    .option('--json', 'JSON output')
    .action(action(load.worktrees, 'pruneWorktreesCommand'));

  const approvals = program
    .command('approvals')
    .description("decisions the workspace's users make, e.g. a tool permission");
  hubCommand(approvals.command('list'))
    .description('approvals, newest first')
    .option('--status <status>', 'only this status: pending, approved, denied or expired')
    .option('--limit <n>', 'at most N', '50')
    .option('--json', 'JSON output')
    .action(action(load.approvals, 'list'));
  hubCommand(approvals.command('approve <id>'))
    .description('approve a pending approval (the waiting agent goes on)')
    .option('--json', 'JSON output')
    .action(action(load.approvals, 'approve'));
  hubCommand(approvals.command('deny <id>'))
    .description('deny a pending approval (the waiting agent is told)')
    .option('--json', 'JSON output')
    .action(action(load.approvals, 'deny'));

  const gateways = program.command('gateways').description('gateways of the workspace (hub side)');
  hubCommand(gateways.command('list'))
    .description('list gateways with their agents and last contact')
    .option('--json', 'JSON output')
    .action(action(load.gateway, 'listGateways'));

  return program;
}

export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      const quiet = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      process.exitCode = quiet ? exitCodes.ok : exitCodes.usage;
      if (err.code === 'commander.executeSubCommandAsync') process.exitCode = exitCodes.usage;
    } else {
      process.exitCode = reportError(err, false);
    }
  }
}
