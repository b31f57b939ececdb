/** `list_tasks`, `create_task`, `update_task`: the workspace's task ledger, as the caller. */
import * as z from 'zod';
import { createTaskSchema, taskStatuses, updateTaskSchema } from '@gantry/protocol';
import { defineTool, type ToolScope } from './tool.ts';

export function taskTools(scope: ToolScope): void {
  const { ctx, caller } = scope;

  defineTool(
    scope,
    'list_tasks',
    {
      title: 'List tasks',
      description: "The workspace's tasks, most recently changed first.",
      input: {
        mine: z.boolean().optional().describe('only tasks assigned to you'),
        status: z.enum(taskStatuses).optional().describe('only tasks in this status'),
        limit: z.number().int().min(1).max(1000).optional().describe('at most this many (default 100)'),
      },
      readOnly: true,
    },
    async (args) => ({ tasks: await ctx.tasks.list(caller, args) }),
  );

  const create = createTaskSchema.shape;
  defineTool(
    scope,
    'create_task',
    {
      title: 'Create a task',
      description:
        'Add a task to the ledger. Assigning it to a managed agent dispatches the work; the ' +
        "assignment's outcome moves the task (in_progress, done, blocked, cancelled).",
      input: {
        title: create.title.describe('what needs doing'),
        body: create.body.describe('details'),
        assignee: create.assignee.describe('agent or user (name or id) who owns it'),
        priority: create.priority.describe('default medium'),
        intent: create.intent.describe('default general'),
      },
    },
    async (args) => ({ task: await ctx.tasks.create(caller, args) }),
  );

  const update = updateTaskSchema.shape;
  defineTool(
    scope,
    'update_task',
    {
      title: 'Update a task',
      description:
        'Change a task: status, assignee (null unassigns; a managed agent gets the work), ' +
        'priority, title or body.',
      input: {
        id: z.string().min(1).max(64).describe('task id'),
        status: update.status,
        assignee: update.assignee.describe('agent or user (name or id); null unassigns'),
        priority: update.priority,
        title: update.title,
        body: update.body,
      },
    },
    async ({ id, ...patch }) => ({ task: await ctx.tasks.update(caller, id, patch) }),
  );
}
