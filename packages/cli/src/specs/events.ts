/** `events list`, `events stream` and `watch`: the workspace's activity log. */
import type { Command } from 'commander';
import { collect } from '../provider-options.ts';
import { topCommand } from './top-level.ts';
import { action, hubOptions, withJson } from './options.ts';

const load = {
  events: () => import('../commands/events.ts'),
};

export function eventsSpec(program: Command): void {
  const events = topCommand(program, 'events');
  withJson(
    hubOptions(events.command('list'))
      .description('the newest events, oldest first')
      .option('--limit <n>', 'the newest N', '20')
      .option('--type <type>', 'only this type, or a prefix ending in "." like task. (repeatable)', collect),
  ).action(action(load.events, 'list'));
  withJson(
    hubOptions(events.command('stream'))
      .description('follow the activity live (from now, after --since ID, or from the --last N) until Ctrl+C')
      .option('--since <id>', 'first replay every event after this id')
      .option('--last <n>', 'first show the newest N events')
      .option('--type <type>', 'only this type, or a prefix ending in "." like task. (repeatable)', collect),
    'one JSON object per line, each with its id',
  ).action(action(load.events, 'stream'));
  withJson(
    hubOptions(topCommand(program, 'watch'))
      .option('--mention', 'a message that mentions you')
      .option('--from <agent>', 'done by this agent or user (name or id)')
      .option('--contains <text>', "a message body (or any other event's JSON) containing TEXT, any case")
      .option('--event <type>', 'this type, or a prefix ending in "." (repeatable)', collect)
      .option('--count <n>', 'wait for N matching events', '1')
      .option('--timeout <duration>', 'give up after DURATION, e.g. 30s, 5m (exit 124)'),
    'one JSON object per line',
  ).action(action(load.events, 'watch'));
}
