/**
 * The top-level commands, in the order `gantry --help` lists them: name, arguments, description and
 * the spec (command group) that defines the rest. No commander here (types only): `gantry --help`
 * prints from this list alone, and a command builds only its own group's spec.
 */
import type { Command } from 'commander';

export type Group =
  | 'hub'
  | 'auth'
  | 'agents'
  | 'work'
  | 'messages'
  | 'gateway'
  | 'tasks'
  | 'people'
  | 'events'
  | 'sessions'
  | 'operations';

export interface TopCommand {
  name: string;
  /** As commander takes them after the name, e.g. `<agent> <prompt>`. */
  args?: string;
  /** Whether the command itself takes options (its help lists it with `[options]`). */
  options: boolean;
  description: string;
  group: Group;
}

/** What `gantry doctor`, `gateway doctor` and `hub doctor` do (after whose checks they run). */
export const doctorHelp =
  'every check with ok, warn or error and the command that fixes it; exit 1 on any error (changes nothing)';

const list: TopCommand[] = [
  {
    name: 'up',
    options: true,
    group: 'hub',
    description: 'start a local hub, a gateway on this machine and an `echo` agent, and log this CLI in',
  },
  { name: 'hub', options: false, group: 'hub', description: 'run a hub' },
  {
    name: 'dashboard',
    options: true,
    group: 'hub',
    description: 'print a one-time sign-in link to the dashboard (valid 60 s) and open it in a browser',
  },
  { name: 'login', options: true, group: 'auth', description: 'log this CLI in to a hub' },
  { name: 'whoami', options: true, group: 'auth', description: 'who this CLI acts as, on which hub' },
  { name: 'auth', options: false, group: 'auth', description: "this CLI's credentials" },
  {
    name: 'templates',
    options: true,
    group: 'agents',
    description: 'agent templates: what each is for, what it needs, its kind and provider',
  },
  { name: 'agents', options: false, group: 'agents', description: 'agents of the workspace' },
  {
    name: 'assign',
    args: '<agent> <prompt...>',
    options: true,
    group: 'work',
    description: 'give an agent work',
  },
  { name: 'chains', options: false, group: 'work', description: 'chains of agents starting agents' },
  { name: 'assignments', options: false, group: 'work', description: 'assignments of the workspace' },
  {
    name: 'stop',
    options: true,
    group: 'work',
    description:
      'with --all, the emergency brake: pause every agent, cancel everything queued or running (owner, admin)',
  },
  {
    name: 'resume',
    options: true,
    group: 'work',
    description: 'with --all: resume the agents `stop --all` paused (owner, admin)',
  },
  {
    name: 'approvals',
    options: false,
    group: 'work',
    description: "decisions the workspace's users make, e.g. a tool permission",
  },
  {
    name: 'send',
    args: '<text...>',
    options: true,
    group: 'messages',
    description: 'post a message as yourself; @name mentions an agent or user',
  },
  { name: 'inbox', options: true, group: 'messages', description: 'your unread messages' },
  { name: 'messages', options: false, group: 'messages', description: 'messages to and from you' },
  { name: 'gateway', options: false, group: 'gateway', description: "this machine's gateway" },
  { name: 'config', options: false, group: 'gateway', description: "this machine's settings (config.toml)" },
  { name: 'gateways', options: false, group: 'gateway', description: 'gateways of the workspace (hub side)' },
  { name: 'audit', options: false, group: 'gateway', description: "the workspace's audit log (owner/admin)" },
  { name: 'tasks', options: false, group: 'tasks', description: "the workspace's tasks: who owns what" },
  {
    name: 'context',
    options: false,
    group: 'tasks',
    description: "the workspace's shared entries and files",
  },
  { name: 'users', options: false, group: 'people', description: "the workspace's people and their roles" },
  { name: 'workspaces', options: false, group: 'people', description: 'the workspaces you belong to' },
  {
    name: 'tokens',
    options: false,
    group: 'people',
    description: 'personal tokens; owners and admins see every token',
  },
  { name: 'events', options: false, group: 'events', description: "the workspace's activity log" },
  {
    name: 'watch',
    options: true,
    group: 'events',
    description: 'wait for new matching events; exit 0 on a match, 124 on --timeout',
  },
  {
    name: 'handoff',
    args: '<agent> <task>',
    options: true,
    group: 'sessions',
    description: 'hand owned work to an agent: a task, a message asking it, and a wait for its reply',
  },
  {
    name: 'listen',
    options: true,
    group: 'sessions',
    description: "answer an agent's mentions by running a command (with that agent's key)",
  },
  {
    name: 'mcp',
    options: true,
    group: 'sessions',
    description:
      "serve the hub's MCP tools over stdio for a local agent session, as this credential (e.g. an agent key in GANTRY_TOKEN), or in a folder of `gantry local init` as its agent",
  },
  {
    name: 'local',
    options: false,
    group: 'sessions',
    description: "a pass-through agent: this folder speaks for one agent through this machine's gateway",
  },
  {
    name: 'channel',
    options: false,
    group: 'sessions',
    description: 'set up an agent session to reach the hub',
  },
  {
    name: 'version',
    options: true,
    group: 'operations',
    description: 'the version, the commit it was built from, and the Node that runs it',
  },
  {
    name: 'doctor',
    options: true,
    group: 'operations',
    description: `this machine's gateway and hub: ${doctorHelp}`,
  },
];

export const topCommands: readonly TopCommand[] = list;

export const programDescription =
  'Gantry: bring AI coding agents online — dispatch work to agents on your machines';

/** The group that defines `name`, if it is a top-level command. */
export function groupOf(name: string | undefined): Group | undefined {
  return topCommands.find((command) => command.name === name)?.group;
}

/** Adds the top-level command `name` to `program`, with its arguments and description. */
export function topCommand(program: Command, name: string): Command {
  const command = topCommands.find((c) => c.name === name);
  if (!command) throw new Error(`no top-level command ${name}`);
  return program
    .command(command.args ? `${command.name} ${command.args}` : command.name)
    .description(command.description);
}
