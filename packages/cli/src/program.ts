/**
 * The `gantry` command tree. Options are declared here; each command's code lives in
 * `commands/` and is loaded only when that command runs.
 */
import { Command, CommanderError, Option } from 'commander';
import { taskIntents, taskPriorities, taskStatuses, version } from '@gantry/protocol';
import { operationsCommands } from './operations-program.ts';
import { exitCodes, reportError } from './output.ts';
import { hideSecretArguments } from './process-list.ts';
import { collect, providerOptions } from './provider-options.ts';

type Loader = () => Promise<Record<string, unknown>>;
const load = {
  up: () => import('./commands/up.ts'),
  hub: () => import('./commands/hub.ts'),
  login: () => import('./commands/login.ts'),
  auth: () => import('./commands/auth.ts'),
  agents: () => import('./commands/agents.ts'),
  templates: () => import('./commands/templates.ts'),
  assign: () => import('./commands/assign.ts'),
  assignments: () => import('./commands/assignments.ts'),
  gateway: () => import('./commands/gateway.ts'),
  gatewayDaemon: () => import('./commands/gateway-daemon.ts'),
  config: () => import('./commands/config.ts'),
  gatewayLogs: () => import('./commands/gateway-logs.ts'),
  gatewayStatus: () => import('./commands/gateway-status.ts'),
  worktrees: () => import('./commands/worktrees.ts'),
  approvals: () => import('./commands/approvals.ts'),
  devices: () => import('./commands/devices.ts'),
  tasks: () => import('./commands/tasks.ts'),
  context: () => import('./commands/context.ts'),
  messages: () => import('./commands/messages.ts'),
  events: () => import('./commands/events.ts'),
  mcp: () => import('./commands/mcp.ts'),
  discover: () => import('./commands/discover.ts'),
  handoff: () => import('./commands/handoff.ts'),
  listen: () => import('./commands/listen.ts'),
  users: () => import('./commands/users.ts'),
  tokens: () => import('./commands/tokens.ts'),
  workspaces: () => import('./commands/workspaces.ts'),
  local: () => import('./commands/local.ts'),
  channel: () => import('./commands/channel.ts'),
  dashboard: () => import('./commands/dashboard.ts'),
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
    .option('--token <token>', 'credential (default: GANTRY_TOKEN, then your login)')
    .option(
      '--workspace <name>',
      "act in this workspace, by name or id (default: GANTRY_WORKSPACE, then your token's)",
    );
}

/** Where browsers reach the hub, and https: `hub start` and `up` take the same. */
function webOptions(cmd: Command): Command {
  return cmd
    .option(
      '--public-url <url>',
      'where browsers reach this hub, e.g. behind a TLS proxy: https://gantry.example.com (GANTRY_PUBLIC_URL)',
    )
    .option('--tls-cert <file>', 'serve https with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', "the certificate's private key (PEM)");
}

function buildProgram(): Command {
  const program = new Command('gantry')
    .description('Gantry: bring AI coding agents online — dispatch work to agents on your machines')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  webOptions(program.command('up'))
    .description('start a local hub, a gateway on this machine and an `echo` agent, and log this CLI in')
    .option('--port <port>', 'hub port', '7420')
    .option('--gateway-port <port>', "gateway's local API port", '7421')
    .option('--data-dir <dir>', 'where the hub keeps its database and owner token')
    .option('--json', 'print the addresses as JSON once ready')
    .action(action(load.up, 'up'));

  const hub = program.command('hub').description('run a hub');
  webOptions(hub.command('start'))
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
    .option(
      '--mention-hop-limit <n>',
      'agent replies in a row after which a mention runs nothing (GANTRY_MENTION_HOP_LIMIT, default 8)',
    )
    .option(
      '--max-pending-handshakes <n>',
      'gateway sockets that have not finished hello, in total (GANTRY_MAX_PENDING_HANDSHAKES, default 1024)',
    )
    .option(
      '--max-pending-handshakes-per-address <n>',
      'the same from one address (GANTRY_MAX_PENDING_HANDSHAKES_PER_ADDRESS, default 64)',
    )
    .option(
      '--require-approval',
      'every new gateway device waits for an owner or admin, even the first for an agent (GANTRY_REQUIRE_APPROVAL=1)',
    )
    .option('--json', 'print the address and first-start token as JSON once ready')
    .action(action(load.hub, 'hubStart'));

  hubCommand(program.command('dashboard'))
    .description('print a one-time sign-in link to the dashboard (valid 60 s) and open it in a browser')
    .option('--no-open', 'only print the link')
    .option('--json', 'JSON output')
    .action(action(load.dashboard, 'dashboard'));

  hubCommand(program.command('login'))
    .description('log this CLI in to a hub')
    .requiredOption('--url <url>', 'hub URL')
    .option('--json', 'JSON output')
    .action(action(load.login, 'login'));
  hubCommand(program.command('whoami'))
    .description('who this CLI acts as, on which hub')
    .option('--json', 'JSON output')
    .action(action(load.login, 'whoami'));
  const auth = program.command('auth').description("this CLI's credentials");
  hubCommand(auth.command('doctor'))
    .description(
      'which credential and hub the CLI would use and why, and every problem found (changes nothing)',
    )
    .option('--data-dir <dir>', "also check a hub's data folder kept elsewhere (hub start --data-dir)")
    .option('--json', 'JSON output')
    .action(action(load.auth, 'doctor'));

  hubCommand(program.command('templates'))
    .description('agent templates: what each is for, what it needs, its kind and provider')
    .option('--json', 'JSON output')
    .action(action(load.templates, 'templates'));

  const agents = program.command('agents').description('agents of the workspace');
  providerOptions(
    hubCommand(agents.command('add <name>'))
      .description(
        'add an agent from a template (owner/admin); a managed one is handed to --gateway, which serves it at once',
      )
      .requiredOption('--template <name>', 'see `gantry templates`')
      .option('--gateway <id>', 'the connected gateway (id or name) that runs it (managed templates)')
      .option(
        '--workdir <dir>',
        "its folder on the gateway's machine (default: the gateway's workspace root)",
      )
      .option('--provider-bin <path>', 'the binary for generic and acp (on the gateway machine)'),
    { isolation: true },
  )
    .option('--json', "JSON output (no key, except a service account's, shown once)")
    .action(action(load.templates, 'add'));
  hubCommand(agents.command('show <name>'))
    .description('an agent: kind, template, gateways with providers, paused, reachability')
    .option('--json', 'JSON output')
    .action(action(load.templates, 'show'));
  hubCommand(agents.command('test <name>'))
    .description(
      'managed: a test assignment, waited for; others: a test message and whether it can hear (with the round trip)',
    )
    .option('--timeout <duration>', 'how long to wait for a managed agent (default 60s)')
    .option('--json', 'JSON output')
    .action(action(load.templates, 'test'));
  hubCommand(agents.command('remove <name>'))
    .description(
      'remove an agent (owner/admin): revoke its keys, cancel its work, detach it from its gateways',
    )
    .option('--json', 'JSON output')
    .action(action(load.templates, 'remove'));
  hubCommand(agents.command('create <name>'))
    .description('create an agent and print its key (shown once)')
    .addOption(
      new Option(
        '--kind <kind>',
        'managed (runs through a gateway), pass_through (polls its inbox, e.g. with `gantry listen`) or service (sends only)',
      )
        .choices(['managed', 'pass_through', 'service'])
        .default('managed'),
    )
    .option('--json', 'JSON output with id, name, kind, key')
    .action(action(load.agents, 'create'));
  hubCommand(agents.command('list'))
    .description('list agents')
    .option('--json', 'JSON output')
    .action(action(load.agents, 'list'));
  hubCommand(agents.command('pause <name>'))
    .description('pause an agent: its mentions and assignments queue without running (users only)')
    .option('--json', 'JSON output')
    .action(action(load.agents, 'pause'));
  hubCommand(agents.command('resume <name>'))
    .description('resume a paused agent: what it queued runs, oldest first (users only)')
    .option('--json', 'JSON output')
    .action(action(load.agents, 'resume'));
  hubCommand(agents.command('rotate-key <name>'))
    .description('a new key for an agent, shown once; its older keys are revoked at once (owner, admin)')
    .option('--json', 'JSON output: { agent, key, revoked }')
    .action(action(load.agents, 'rotateKey'));
  hubCommand(agents.command('discover'))
    .description('each agent: live, queue-only or unreachable, and through what (gateway, inbox wait)')
    .option('--json', 'JSON output')
    .action(action(load.discover, 'discover'));
  hubCommand(agents.command('ping <name>'))
    .description(
      "an agent's reachability and the round trip to its gateway (exit 0 live, 1 not, 124 no pong)",
    )
    .option('--timeout <duration>', 'how long to wait for the pong (default 5s, at most 60s)')
    .option('--json', 'JSON output')
    .action(action(load.discover, 'ping'));

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
    .option('--chain <id>', 'only the runs of this chain (see `gantry chains show`)')
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

  hubCommand(program.command('send <text>'))
    .description('post a message as yourself; @name mentions an agent or user')
    .option('--to <agent>', 'address an agent or user besides the @mentions (repeatable)', collect)
    .option('--parent <id>', 'reply in the thread of this message')
    .option('--file <path>', 'attach a file (uploaded to the workspace context)')
    .option(
      '--wait [duration]',
      'wait for the first reply from an addressed agent (default 5m; exit 124 if none)',
    )
    .option('--json', 'JSON output: { message, reply }')
    .action(action(load.messages, 'send'));
  hubCommand(program.command('inbox'))
    .description('your unread messages')
    .option('--wait <duration>', 'wait for mail no inbox call has handed you yet (exit 0 with none)')
    .option('--mark-read', 'mark the returned messages read')
    .option('--json', 'JSON output: { messages, timedOut }')
    .action(action(load.messages, 'inbox'));
  const messages = program.command('messages').description('messages to and from you');
  hubCommand(messages.command('list'))
    .description('messages addressed to you or written by you, oldest first')
    .option('--unread', 'only your unread ones')
    .option('--mark-read', 'mark the listed messages read')
    .option('--thread <id>', 'the whole thread of this message')
    .option('--limit <n>', 'the newest N (default 50)')
    .option('--json', 'JSON output')
    .action(action(load.messages, 'list'));
  hubCommand(messages.command('read [id]'))
    .description('mark a message (or --all) read')
    .option('--all', 'mark all your unread messages read')
    .option('--json', 'JSON output')
    .action(action(load.messages, 'read'));

  const gateway = program.command('gateway').description("this machine's gateway");
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
      )
      .option('--json', 'print the gateway as JSON once connected (or after 3 s, with connected: false)');

  withProviderOptions(gateway.command('connect'))
    .description('register this machine as a gateway for an agent and save the session')
    .option('--provider-arg <arg>', 'provider argument to save (repeat per token)', collect)
    .option('--port <port>', 'local API port to save for `gateway start` (GANTRY_GATEWAY_PORT)')
    .option('--json', 'JSON output')
    .action(action(load.gateway, 'connect'));
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
    .description(
      "this machine's gateway: running or not (exit 0 / 3), pid, uptime, hubs, agents, runs, outbox, last error",
    )
    .option('--json', 'JSON output')
    .action(action(load.gatewayStatus, 'status'));
  gateway
    .command('stop')
    .description(
      'stop the running gateway (its runs are stopped and handed back); returns once it has exited',
    )
    .option('--drain', 'take no new work, let running work finish and deliver every result, then exit')
    .option('--timeout <duration>', 'with --drain: stop what is still running after this long (e.g. 10m)')
    .option('--json', 'JSON output')
    .action(action(load.gatewayDaemon, 'stop'));
  gateway
    .command('restart')
    .description('stop the gateway and start it in the background with the settings it was started with')
    .option('--config <file>', 'start it with this settings file instead of the one it was started with')
    .option('--json', 'JSON output')
    .action(action(load.gatewayDaemon, 'restart'));
  gateway
    .command('logs')
    .description("the gateway's log file: the last lines, and with -f what comes next")
    .option('-n, --lines <n>', 'how many of the last lines (default 50)')
    .option('-f, --follow', 'keep printing new lines until Ctrl+C')
    .action(action(load.gatewayLogs, 'logs'));

  const config = program.command('config').description("this machine's settings (config.toml)");
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
    .option('--port <port>', 'local API port, as `gateway start` takes it')
    .option(
      '--json',
      'JSON output: { configFile, configFileExists, settings: [{ key, value, source, from }] }',
    )
    .action(action(load.config, 'show'));

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

  const tasks = program.command('tasks').description("the workspace's tasks: who owns what");
  const choice = (flags: string, what: string, values: readonly string[]) =>
    new Option(flags, `${what}: ${values.join(', ')}`).choices(values);
  hubCommand(tasks.command('create <title>'))
    .description('create a task (assigning it to a managed agent runs it there)')
    .option('--body <text>', 'what is to be done, in detail')
    .option('--assign <agent>', 'assignee: an agent or user, by name or id')
    .addOption(choice('--priority <priority>', 'priority (default medium)', taskPriorities))
    .addOption(choice('--intent <intent>', 'kind of work (default general)', taskIntents))
    .option('--json', 'JSON output')
    .action(action(load.tasks, 'create'));
  hubCommand(tasks.command('list'))
    .description('tasks, most recently changed first')
    .option('--mine', 'only tasks assigned to you')
    .addOption(choice('--status <status>', 'only this status', taskStatuses))
    .option('--limit <n>', 'at most N (default 100)')
    .option('--json', 'JSON output')
    .action(action(load.tasks, 'list'));
  hubCommand(tasks.command('show <id>'))
    .description('show one task')
    .option('--json', 'JSON output')
    .action(action(load.tasks, 'show'));
  hubCommand(tasks.command('update <id>'))
    .description("change a task's status, assignee, priority, title or body")
    .addOption(choice('--status <status>', 'new status', taskStatuses))
    .option('--assign <agent>', 'new assignee: an agent or user, by name or id')
    .option('--unassign', 'remove the assignee')
    .addOption(choice('--priority <priority>', 'new priority', taskPriorities))
    .option('--title <title>', 'new title')
    .option('--body <text>', 'new body')
    .option('--json', 'JSON output')
    .action(action(load.tasks, 'update'));

  const context = program.command('context').description("the workspace's shared entries and files");
  hubCommand(context.command('set <key> <value>'))
    .description('set a value (keys: letters, digits and . _ : @ / -)')
    .option('--json', 'JSON output')
    .action(action(load.context, 'set'));
  hubCommand(context.command('get <key>'))
    .description('print a value (a file: use `context download`)')
    .option('--json', 'JSON output: the entry')
    .action(action(load.context, 'get'));
  hubCommand(context.command('list'))
    .description('entries by key, with kind, size and content type')
    .option('--prefix <prefix>', 'only keys starting with PREFIX')
    .option('--limit <n>', 'at most N (default 1000)')
    .option('--json', 'JSON output')
    .action(action(load.context, 'list'));
  hubCommand(context.command('delete <key>'))
    .description('delete an entry or file')
    .option('--json', 'JSON output')
    .action(action(load.context, 'remove'));
  hubCommand(context.command('upload <file>'))
    .description('upload a file, streamed from disk (replaces the key atomically)')
    .option('--key <key>', "the key (default: the file's name)")
    .option('--content-type <type>', "content type (default: guessed from the file's extension)")
    .option('--json', 'JSON output')
    .action(action(load.context, 'upload'));
  hubCommand(context.command('download <key>'))
    .description('download a file to PATH (written atomically), or to standard output')
    .option('-o, --output <path>', 'file or folder to write to')
    .option('--json', 'JSON output (with -o)')
    .action(action(load.context, 'download'));

  const users = program.command('users').description("the workspace's people and their roles");
  hubCommand(users.command('add <handle>'))
    .description('add a user and print their token (shown once; owner, admin — only an owner adds owners)')
    .addOption(
      new Option('--role <role>', 'owner, admin or member (default member)').choices([
        'owner',
        'admin',
        'member',
      ]),
    )
    .option('--json', 'JSON output: { user, token }')
    .action(action(load.users, 'add'));
  hubCommand(users.command('list'))
    .description('users of the workspace with their roles')
    .option('--json', 'JSON output')
    .action(action(load.users, 'list'));
  hubCommand(users.command('remove <handle>'))
    .description('remove a user and revoke their tokens (owner, admin; never the last owner)')
    .option('--json', 'JSON output')
    .action(action(load.users, 'remove'));

  const workspaces = program.command('workspaces').description('the workspaces you belong to');
  hubCommand(workspaces.command('list'))
    .description('your workspaces and your role in each (* the one this command acted in)')
    .option('--json', 'JSON output')
    .action(action(load.workspaces, 'list'));
  hubCommand(workspaces.command('create <name>'))
    .description('create a workspace you own, and print a token for it (shown once)')
    .option('--json', 'JSON output: { workspace, user, token }')
    .action(action(load.workspaces, 'create'));

  const tokens = program.command('tokens').description('personal tokens; owners and admins see every token');
  hubCommand(tokens.command('create'))
    .description('a new personal token, shown once')
    .option('--expires <duration>', 'it stops working after DURATION, e.g. 1h, 30m, 720h')
    .option('--json', 'JSON output: { token, secret }')
    .action(action(load.tokens, 'create'));
  hubCommand(tokens.command('list'))
    .description('your tokens (owner, admin: every user, agent and gateway token of the workspace)')
    .option('--json', 'JSON output')
    .action(action(load.tokens, 'list'));
  hubCommand(tokens.command('revoke <id>'))
    .description('revoke a token at once, closing connections made with it')
    .option('--json', 'JSON output')
    .action(action(load.tokens, 'revoke'));

  const gateways = program.command('gateways').description('gateways of the workspace (hub side)');
  hubCommand(gateways.command('list'))
    .description('list gateways with their agents and last contact')
    .option('--json', 'JSON output')
    .action(action(load.gateway, 'listGateways'));
  hubCommand(gateways.command('show <id>'))
    .description('a gateway: device fingerprint, approval state, last seen, agents with their bindings')
    .option('--json', 'JSON output')
    .action(action(load.devices, 'showGateway'));

  const audit = program.command('audit').description("the workspace's audit log (owner/admin)");
  hubCommand(audit.command('list'))
    .description('audit entries, newest first: trust decisions, binding changes, approvals')
    .option('--limit <n>', 'at most N', '100')
    .option('--json', 'JSON output')
    .action(action(load.devices, 'listAudit'));

  const events = program.command('events').description("the workspace's activity log");
  hubCommand(events.command('stream'))
    .description('follow the activity live (from now, or after --since ID) until Ctrl+C')
    .option('--since <id>', 'first replay every event after this id')
    .option('--type <type>', 'only this type, or a prefix ending in "." like task. (repeatable)', collect)
    .option('--json', 'one JSON object per line, each with its id')
    .action(action(load.events, 'stream'));
  hubCommand(program.command('watch'))
    .description('wait for new matching events; exit 0 on a match, 124 on --timeout')
    .option('--mention', 'a message that mentions you')
    .option('--from <agent>', 'done by this agent or user (name or id)')
    .option('--contains <text>', "a message body (or any other event's JSON) containing TEXT, any case")
    .option('--event <type>', 'this type, or a prefix ending in "." (repeatable)', collect)
    .option('--count <n>', 'wait for N matching events', '1')
    .option('--timeout <duration>', 'give up after DURATION, e.g. 30s, 5m (exit 124)')
    .option('--json', 'one JSON object per line')
    .action(action(load.events, 'watch'));

  hubCommand(program.command('handoff <agent> <task>'))
    .description('hand owned work to an agent: a task, a message asking it, and a wait for its reply')
    .option('--intent <intent>', `${taskIntents.join(', ')} (sets priority and framing; default general)`)
    .option('--timeout <duration>', 'how long to wait for the reply (default 5m; exit 124 after)')
    .option('--no-adaptive-wait', 'wait even when the agent is not live now')
    .option('--follow-up', 'after the reply: [r]eply, [e]xit or [n]o reply, in the same thread')
    .option('--loop', 're-prompt in the thread until a reply keeps the --completion-promise')
    .option('--max-rounds <n>', 'with --loop: at most N prompts (default 5; exit 1 when reached)')
    .option('--completion-promise <text>', 'with --loop: done when a reply says <promise>TEXT</promise>')
    .option('--json', 'JSON output: { status, reply, taskId, threadId, rounds, ... }')
    .action(action(load.handoff, 'handoff'));
  hubCommand(program.command('listen'))
    .description("answer an agent's mentions by running a command (with that agent's key)")
    .requiredOption('--agent <name>', 'the agent to listen as (its key in GANTRY_TOKEN or --token)')
    .requiredOption('--exec <cmd>', 'run through /bin/sh, with the message as its last argument')
    .option('--queue-size <n>', 'messages that may wait while one runs; past it they are refused', '16')
    .option('--json', 'one JSON object per line: ready, then each message handled')
    .action(action(load.listen, 'listen'));

  hubCommand(program.command('mcp'))
    .description(
      "serve the hub's MCP tools over stdio for a local agent session, as this credential (e.g. an agent key in GANTRY_TOKEN), or in a folder of `gantry local init` as its agent",
    )
    .action(action(load.mcp, 'mcp'));

  const local = program
    .command('local')
    .description("a pass-through agent: this folder speaks for one agent through this machine's gateway");
  const inFolder = (cmd: Command) =>
    cmd
      .option('--workdir <dir>', 'the registered folder (default: this folder or the nearest one above)')
      .option('--json', 'JSON output');
  inFolder(local.command('init <name>'))
    .description('register the folder as agent NAME with the local gateway (pending until approved)')
    .action(action(load.local, 'init'));
  inFolder(local.command('connect'))
    .description("the folder's status: pending (with what to do), connected or denied")
    .action(action(load.local, 'connect'));
  inFolder(local.command('inbox'))
    .description("the folder's agent's unread mail")
    .option('--wait <duration>', 'wait for new mail, e.g. 30s, 5m')
    .option('--mark-read', 'mark what is shown read')
    .action(action(load.local, 'inbox'));
  inFolder(local.command('send <text>'))
    .description("send a message as the folder's agent")
    .option('--to <name>', 'address an agent or user besides @mentions (repeat)', collect)
    .option('--parent <id>', 'reply to a message')
    .action(action(load.local, 'send'));

  program
    .command('channel')
    .description('set up an agent session to reach the hub')
    .command('setup <name>')
    .description(
      "write DIR/.mcp.json so Claude Code there uses `gantry mcp` as the folder's agent (no token inside)",
    )
    .option('--workdir <dir>', 'the registered folder (default: this folder)')
    .option('--json', 'JSON output')
    .action(action(load.channel, 'setup'));

  operationsCommands(program, { gateway, hub }, action);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  hideSecretArguments(argv);
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
