/** `send`, `inbox` and `messages`: the mailbox. */
import type { Command } from 'commander';
import { collect } from '../provider-options.ts';
import { topCommand } from './top-level.ts';
import { action, hubOptions, withJson } from './options.ts';

const load = {
  messages: () => import('../commands/messages.ts'),
};

export function messagesSpec(program: Command): void {
  withJson(
    hubOptions(topCommand(program, 'send'))
      .option('--to <agent>', 'address an agent or user besides the @mentions (repeatable)', collect)
      .option('--parent <id>', 'reply in the thread of this message')
      .option('--file <path>', 'attach a file (uploaded to the workspace context)')
      .option(
        '--wait [duration]',
        'wait for the first reply from an addressed agent (default 5m; exit 124 if none)',
      )
      .option('--chain-max-runs <n>', "the runs the chain this message starts may make (default: the hub's)"),
    'JSON output: { message, reply }',
  ).action(action(load.messages, 'send'));
  withJson(
    hubOptions(topCommand(program, 'inbox'))
      .option('--wait <duration>', 'wait for mail no inbox call has handed you yet (exit 0 with none)')
      .option('--mark-read', 'mark the returned messages read'),
    'JSON output: { messages, timedOut }',
  ).action(action(load.messages, 'inbox'));
  const messages = topCommand(program, 'messages');
  withJson(
    hubOptions(messages.command('list'))
      .description('messages addressed to you or written by you, oldest first')
      .option('--unread', 'only your unread ones')
      .option('--mark-read', 'mark the listed messages read')
      .option('--thread <id>', 'the whole thread of this message')
      .option('--limit <n>', 'the newest N (default 50)'),
  ).action(action(load.messages, 'list'));
  withJson(
    hubOptions(messages.command('read [id]'))
      .description('mark a message (or --all) read')
      .option('--all', 'mark all your unread messages read'),
  ).action(action(load.messages, 'read'));
}
