/** `tasks` and `context`: the workspace's ledger and shared entries. */
import type { Command } from 'commander';
import { taskIntents, taskPriorities, taskStatuses } from '@gantry/protocol/core';
import { topCommand } from './top-level.ts';
import { action, hubOptions, withJson, choice } from './options.ts';

const load = {
  context: () => import('../commands/context.ts'),
  tasks: () => import('../commands/tasks.ts'),
};

export function tasksSpec(program: Command): void {
  const tasks = topCommand(program, 'tasks');
  withJson(
    hubOptions(tasks.command('create <title>'))
      .description('create a task (assigning it to a managed agent runs it there)')
      .option('--body <text>', 'what is to be done, in detail')
      .option('--assign <agent>', 'assignee: an agent or user, by name or id')
      .addOption(choice('--priority <priority>', 'priority (default medium)', taskPriorities))
      .addOption(choice('--intent <intent>', 'kind of work (default general)', taskIntents)),
  ).action(action(load.tasks, 'create'));
  withJson(
    hubOptions(tasks.command('list'))
      .description('tasks, most recently changed first')
      .option('--mine', 'only tasks assigned to you')
      .addOption(choice('--status <status>', 'only this status', taskStatuses))
      .option('--limit <n>', 'at most N (default 100)'),
  ).action(action(load.tasks, 'list'));
  withJson(hubOptions(tasks.command('show <id>')).description('show one task')).action(
    action(load.tasks, 'show'),
  );
  withJson(
    hubOptions(tasks.command('update <id>'))
      .description("change a task's status, assignee, priority, title or body")
      .addOption(choice('--status <status>', 'new status', taskStatuses))
      .option('--assign <agent>', 'new assignee: an agent or user, by name or id')
      .option('--unassign', 'remove the assignee')
      .addOption(choice('--priority <priority>', 'new priority', taskPriorities))
      .option('--title <title>', 'new title')
      .option('--body <text>', 'new body'),
  ).action(action(load.tasks, 'update'));

  const context = topCommand(program, 'context');
  withJson(
    hubOptions(context.command('set <key> <value>')).description(
      'set a value (keys: letters, digits and . _ : @ / -)',
    ),
  ).action(action(load.context, 'set'));
  withJson(
    hubOptions(context.command('get <key>')).description('print a value (a file: use `context download`)'),
    'JSON output: the entry',
  ).action(action(load.context, 'get'));
  withJson(
    hubOptions(context.command('list'))
      .description('entries by key, with kind, size and content type')
      .option('--prefix <prefix>', 'only keys starting with PREFIX')
      .option('--limit <n>', 'at most N (default 1000)'),
  ).action(action(load.context, 'list'));
  withJson(hubOptions(context.command('delete <key>')).description('delete an entry or file')).action(
    action(load.context, 'remove'),
  );
  withJson(
    hubOptions(context.command('upload <file>'))
      .description('upload a file, streamed from disk (replaces the key atomically)')
      .option('--key <key>', "the key (default: the file's name)")
      .option('--content-type <type>', "content type (default: guessed from the file's extension)"),
  ).action(action(load.context, 'upload'));
  withJson(
    hubOptions(context.command('download <key>'))
      .description('download a file to PATH (written atomically), or to standard output')
      .option('-o, --output <path>', 'file or folder to write to'),
    'JSON output (with -o)',
  ).action(action(load.context, 'download'));
}
