/** `handoff`, `listen`, `mcp`, `local` and `channel`: agent sessions that reach the hub. */
import type { Command } from 'commander';
import { taskIntents } from '@gantry/protocol/core';
import { collect } from '../provider-options.ts';
import { topCommand } from './top-level.ts';
import { action, hubOptions, withJson } from './options.ts';

const load = {
  channel: () => import('../commands/channel.ts'),
  handoff: () => import('../commands/handoff.ts'),
  listen: () => import('../commands/listen.ts'),
  local: () => import('../commands/local.ts'),
  mcp: () => import('../commands/mcp.ts'),
};

export function sessionsSpec(program: Command): void {
  withJson(
    hubOptions(topCommand(program, 'handoff'))
      .option('--intent <intent>', `${taskIntents.join(', ')} (sets priority and framing; default general)`)
      .option('--timeout <duration>', 'how long to wait for the reply (default 5m; exit 124 after)')
      .option('--no-adaptive-wait', 'wait even when the agent is not live now')
      .option('--follow-up', 'after the reply: [r]eply, [e]xit or [n]o reply, in the same thread')
      .option('--loop', 're-prompt in the thread until a reply keeps the --completion-promise')
      .option('--max-rounds <n>', 'with --loop: at most N prompts (default 5; exit 1 when reached)')
      .option('--completion-promise <text>', 'with --loop: done when a reply says <promise>TEXT</promise>')
      .option('--chain-max-runs <n>', "the runs the chain this handoff starts may make (default: the hub's)"),
    'JSON output: { status, reply, taskId, threadId, rounds, ... }',
  ).action(action(load.handoff, 'handoff'));
  withJson(
    hubOptions(topCommand(program, 'listen'))
      .requiredOption('--agent <name>', 'the agent to listen as (its key in GANTRY_TOKEN or --token)')
      .requiredOption('--exec <cmd>', 'run through /bin/sh, with the message as its last argument')
      .option('--queue-size <n>', 'messages that may wait while one runs; past it they are refused', '16'),
    'one JSON object per line: ready, then each message handled',
  ).action(action(load.listen, 'listen'));

  hubOptions(topCommand(program, 'mcp')).action(action(load.mcp, 'mcp'));

  const local = topCommand(program, 'local');
  const inFolder = (cmd: Command) =>
    withJson(
      cmd.option('--workdir <dir>', 'the registered folder (default: this folder or the nearest one above)'),
    );
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
  inFolder(local.command('send <text...>'))
    .description("send a message as the folder's agent")
    .option('--to <name>', 'address an agent or user besides @mentions (repeat)', collect)
    .option('--parent <id>', 'reply to a message')
    .action(action(load.local, 'send'));
  inFolder(local.command('tasks'))
    .description("the tasks assigned to the folder's agent")
    .option('--status <status>', 'only tasks in this status')
    .action(action(load.local, 'tasks'));

  withJson(
    topCommand(program, 'channel')
      .command('setup <name>')
      .description(
        "write DIR/.mcp.json so Claude Code there uses `gantry mcp` as the folder's agent (no token inside)",
      )
      .option('--workdir <dir>', 'the registered folder (default: this folder)'),
  ).action(action(load.channel, 'setup'));
}
