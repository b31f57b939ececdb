/**
 * Collaboration in a workspace (DESIGN §2): messages and mailboxes, tasks, context, and the
 * activity log every change emits.
 */
import { z } from 'zod';

/** Who wrote or is addressed: a user or an agent of the workspace. */
export const partySchema = z.object({
  kind: z.enum(['user', 'agent']),
  id: z.string(),
  name: z.string(),
});
export type Party = z.infer<typeof partySchema>;

export const maxMessageBytes = 64 * 1024;

export const messageSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  author: partySchema,
  body: z.string(),
  /** Everyone the message is addressed to: `@name` mentions, `to`, and (for a reply) the parent's author. */
  mentions: z.array(partySchema),
  parentId: z.string().nullable(),
  /** The id of the thread's first message (its own id for a top-level message). */
  threadId: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  /** Only in a caller's mailbox listing: whether the caller has read it. */
  read: z.boolean().optional(),
});
export type Message = z.infer<typeof messageSchema>;

export const sendMessageSchema = z.strictObject({
  body: z.string().min(1).max(maxMessageBytes),
  /** Agents or users (by name or id) to address besides the `@name` mentions in the body. */
  to: z.array(z.string().min(1).max(200)).max(100).optional(),
  parentId: z.string().min(1).max(64).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type SendMessage = z.infer<typeof sendMessageSchema>;

/** `GET /v1/inbox`: the caller's unread mail; with `wait`, what no inbox call has handed out yet. */
export const inboxQuerySchema = z.strictObject({
  /** Milliseconds to wait for new mail when there is none undelivered (at most 10 minutes). */
  wait: z.coerce.number().int().min(0).max(600_000).optional(),
  markRead: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export const inboxSchema = z.object({
  messages: z.array(messageSchema),
  /** True when a wait ran out with nothing new. */
  timedOut: z.boolean(),
});
export type Inbox = z.infer<typeof inboxSchema>;

export const listMessagesQuerySchema = z.strictObject({
  unread: z.enum(['true', 'false']).optional(),
  markRead: z.enum(['true', 'false']).optional(),
  thread: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

// ---- tasks -------------------------------------------------------------------------------------

export const taskStatuses = ['open', 'in_progress', 'blocked', 'done', 'cancelled'] as const;
export const taskPriorities = ['low', 'medium', 'high', 'urgent'] as const;
export const taskIntents = ['general', 'review', 'implement', 'qa', 'status', 'incident'] as const;

export const taskSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  title: z.string(),
  body: z.string(),
  status: z.enum(taskStatuses),
  priority: z.enum(taskPriorities),
  intent: z.enum(taskIntents),
  assignee: partySchema.nullable(),
  createdBy: partySchema,
  /** The assignment working on it (a managed agent's), if any. */
  assignmentId: z.string().nullable(),
  threadId: z.string().nullable(),
  /** Why it is blocked, when an assignment failed or timed out. */
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Task = z.infer<typeof taskSchema>;

export const createTaskSchema = z.strictObject({
  title: z.string().min(1).max(500),
  body: z.string().max(maxMessageBytes).optional(),
  assignee: z.string().min(1).max(200).optional(),
  priority: z.enum(taskPriorities).optional(),
  intent: z.enum(taskIntents).optional(),
});
export const updateTaskSchema = z.strictObject({
  status: z.enum(taskStatuses).optional(),
  assignee: z.string().min(1).max(200).nullable().optional(),
  priority: z.enum(taskPriorities).optional(),
  title: z.string().min(1).max(500).optional(),
  body: z.string().max(maxMessageBytes).optional(),
});
export const listTasksQuerySchema = z.strictObject({
  mine: z.enum(['true', 'false']).optional(),
  status: z.enum(taskStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

// ---- context -----------------------------------------------------------------------------------

export const contextKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:@/-]+$/, 'letters, digits and . _ : @ / - only');
/** A value entry's largest size; files may be larger (see `maxContextFileBytes`). */
export const maxContextValueBytes = 256 * 1024;
export const maxContextFileBytes = 100 * 1024 * 1024;

export const contextEntrySchema = z.object({
  key: z.string(),
  kind: z.enum(['value', 'file']),
  /** The value of a `value` entry (absent for files: download them). */
  value: z.string().optional(),
  contentType: z.string(),
  size: z.number().int(),
  sha256: z.string().nullable(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});
export type ContextEntry = z.infer<typeof contextEntrySchema>;

export const setContextSchema = z.strictObject({ value: z.string().max(maxContextValueBytes) });

// ---- activity ----------------------------------------------------------------------------------

/** One entry of the workspace's activity log; `id` grows in commit order. */
export const activityEventSchema = z.object({
  id: z.number().int(),
  type: z.string(),
  ts: z.string(),
  actor: partySchema.nullable(),
  subject: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type ActivityEvent = z.infer<typeof activityEventSchema>;

export const activityQuerySchema = z.strictObject({
  since: z.coerce.number().int().min(0).optional(),
  /** Comma-separated event types (or type prefixes ending in `.`). */
  type: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
