/** `gantry tasks create|list|show|update`: the workspace's task ledger. */
import * as z from 'zod';
import { GantryError, taskSchema, type Task } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { printJson, printLine, table } from '../output.ts';
import { requireText } from '../texts.ts';

type Json = { json?: boolean };

export async function create(
  title: string,
  options: HubOptions & Json & { body?: string; assign?: string; priority?: string; intent?: string },
): Promise<void> {
  requireText(title, 'the title', 'name the task, like: gantry tasks create "review the login page"');
  const task = await HubClient.from(options).request('POST', '/v1/tasks', taskSchema, {
    title,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.assign === undefined ? {} : { assignee: options.assign }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(options.intent === undefined ? {} : { intent: options.intent }),
  });
  if (options.json) return printJson(task);
  printLine(`Created task ${task.id}: ${task.title} (${summary(task)})`);
}

export async function list(
  options: HubOptions & Json & { mine?: boolean; status?: string; limit?: string },
): Promise<void> {
  const query = new URLSearchParams();
  if (options.mine) query.set('mine', 'true');
  if (options.status) query.set('status', options.status);
  if (options.limit) query.set('limit', options.limit);
  const tasks = await HubClient.from(options).request(
    'GET',
    `/v1/tasks${query.size > 0 ? `?${query}` : ''}`,
    z.array(taskSchema),
  );
  if (options.json) return printJson(tasks);
  if (tasks.length === 0) return printLine('No tasks.');
  printLine(
    table([
      ['ID', 'STATUS', 'PRIORITY', 'ASSIGNEE', 'UPDATED', 'TITLE'],
      ...tasks.map((t) => [
        t.id,
        t.status,
        t.priority,
        t.assignee?.name ?? '-',
        t.updatedAt.slice(0, 19).replace('T', ' '),
        t.title.length > 60 ? `${t.title.slice(0, 59)}…` : t.title,
      ]),
    ]),
  );
}

export async function show(id: string, options: HubOptions & Json): Promise<void> {
  const task = await HubClient.from(options).request(
    'GET',
    `/v1/tasks/${encodeURIComponent(id)}`,
    taskSchema,
  );
  if (options.json) return printJson(task);
  printLine(taskBlock(task));
}

export async function update(
  id: string,
  options: HubOptions &
    Json & {
      status?: string;
      assign?: string;
      unassign?: boolean;
      priority?: string;
      title?: string;
      body?: string;
    },
): Promise<void> {
  if (options.assign !== undefined && options.unassign)
    throw new GantryError('invalid_request', '--assign and --unassign cannot be used together');
  const patch = {
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.assign === undefined ? {} : { assignee: options.assign }),
    ...(options.unassign ? { assignee: null } : {}),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(options.title === undefined ? {} : { title: options.title }),
    ...(options.body === undefined ? {} : { body: options.body }),
  };
  if (Object.keys(patch).length === 0)
    throw new GantryError(
      'invalid_request',
      'nothing to update: pass --status, --assign, --unassign, --priority, --title or --body',
    );
  const task = await HubClient.from(options).request(
    'PATCH',
    `/v1/tasks/${encodeURIComponent(id)}`,
    taskSchema,
    patch,
  );
  if (options.json) return printJson(task);
  printLine(`${task.id} ${summary(task)}: ${task.title}`);
}

function summary(t: Task): string {
  return `${t.status}, ${t.priority}, ${t.assignee ? `assigned to ${t.assignee.name}` : 'unassigned'}`;
}

function taskBlock(t: Task): string {
  const lines = [
    `Task        ${t.id}`,
    `Title       ${t.title}`,
    `Status      ${t.status}${t.error ? ` (${t.error})` : ''}`,
    `Priority    ${t.priority} · intent ${t.intent}`,
    `Assignee    ${t.assignee ? `${t.assignee.name} (${t.assignee.kind} ${t.assignee.id})` : '-'}`,
    `Created     ${t.createdAt} by ${t.createdBy.name}`,
    `Updated     ${t.updatedAt}`,
  ];
  if (t.assignmentId) lines.push(`Assignment  ${t.assignmentId}`);
  if (t.threadId) lines.push(`Thread      ${t.threadId}`);
  if (t.body) lines.push('', t.body);
  return lines.join('\n');
}
