/**
 * Collaboration in a workspace (DESIGN §2): messages and mailboxes, tasks, context, and the
 * activity log every change emits.
 */
import * as z from 'zod';
import { taskIntents, taskPriorities, taskStatuses } from './task-vocabulary.ts';

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
  /** The chain it belongs to: its root's id (a person's message starts one: its own id). */
  chainId: z.string(),
  /** Agent runs between the chain's root and this message: 0 for a person's, the run's depth for a run's. */
  depth: z.number().int(),
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
  /** A person's message only: the runs the chain it starts may make (default: the hub's limit). */
  chainMaxRuns: z.number().int().min(1).max(10_000).optional(),
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

/** `GET /v1/messages/:id/reply`: the first later message in its thread from one of `from`. */
export const messageReplyQuerySchema = z.strictObject({
  /** Milliseconds to wait for it (at most 10 minutes); without, answers at once. */
  wait: z.coerce.number().int().min(0).max(600_000).optional(),
  /** Comma-separated agents or users (names or ids); default: the agents the message addresses. */
  from: z.string().min(1).max(2000).optional(),
});
export const messageReplySchema = z.object({
  reply: messageSchema.nullable(),
  timedOut: z.boolean(),
});
export type MessageReply = z.infer<typeof messageReplySchema>;

/** `POST /v1/messages/read-all`: how many of the caller's unread messages it marked read. */
export const readAllSchema = z.object({ marked: z.number().int() });

// ---- tasks -------------------------------------------------------------------------------------

// The task statuses, priorities and intents are in task-vocabulary.ts (no zod: the CLI's options list them).

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
export const listContextQuerySchema = z.strictObject({
  prefix: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

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
  /** The newest N entries (oldest first), instead of those after `since`. */
  last: z.coerce.number().int().min(1).max(10_000).optional(),
});

// ---- reachability and handoffs -----------------------------------------------------------------

/**
 * Whether an agent can answer now: `live` (a connected gateway serves it, or it waits on its inbox
 * on this hub), `queue-only` (its work waits until it comes back: a pass-through agent not waiting
 * now, a managed agent whose gateways are offline or that is paused), `unreachable` (nothing will
 * take its work: a managed agent no gateway serves, a service agent).
 */
export const reachabilities = ['live', 'queue-only', 'unreachable'] as const;
export type Reachability = (typeof reachabilities)[number];

export const agentReachSchema = z.object({
  agent: z.object({ id: z.string(), name: z.string(), kind: z.string() }),
  reachability: z.enum(reachabilities),
  /** How work reaches it: `gateway:NAME` (connected), `inbox` (a wait open now), `mailbox`, `gateway:NAME (offline)`. */
  via: z.array(z.string()),
  paused: z.boolean(),
  /** Why, in a few words for people. */
  reason: z.string(),
  /** When it last called its inbox on this hub, if it did since the hub started. */
  lastInboxAt: z.string().nullable(),
  /** Messages in its mailbox it has not read. */
  unread: z.number().int().nonnegative(),
});
export type AgentReach = z.infer<typeof agentReachSchema>;

/** `POST /v1/agents/:ref/ping`. */
export const pingRequestSchema = z.strictObject({
  /** Milliseconds to wait for the gateway's pong (default 5 s). */
  timeoutMs: z.number().int().min(1).max(60_000).optional(),
});
export const pingResultSchema = agentReachSchema.extend({
  /**
   * The WebSocket ping/pong round trip to the gateway serving it, in ms. Null when nothing was
   * measured: an inbox waiter is handed mail over a request it already holds, so the hub reports
   * its view without sending anything.
   */
  rttMs: z.number().nullable(),
  /** The gateway this was measured against. */
  gateway: z.string().nullable(),
  /** True when the gateway answered no ping within the timeout. */
  timedOut: z.boolean(),
});
export type PingResult = z.infer<typeof pingResultSchema>;

export const handoffStatuses = [
  'replied',
  'timeout',
  'queued_not_listening',
  'loop_complete',
  'loop_max_rounds',
  'would_deadlock',
  /** Asked inside a run whose chain is at its limit: the agent was not run (`chains continue` lets it). */
  'chain_limit',
] as const;
export type HandoffStatus = (typeof handoffStatuses)[number];

/** The longest one handoff request waits; a client that wants longer asks again (GET with `wait`). */
export const maxHandoffWaitMs = 230_000;

export const handoffLoopSchema = z.strictObject({
  maxRounds: z.number().int().min(1).max(100),
  /** Done when a reply contains `<promise>TEXT</promise>`. */
  promise: z.string().min(1).max(500),
});

/** `POST /v1/handoffs`: a task for the agent, a message asking it, and a wait for its reply. */
export const createHandoffSchema = z.strictObject({
  agent: z.string().min(1).max(200),
  prompt: z
    .string()
    .min(1)
    .max(maxMessageBytes - 1024),
  intent: z.enum(taskIntents).optional(),
  /** Milliseconds to wait for the reply in this request (default 0: answer at once). */
  waitMs: z.number().int().min(0).max(maxHandoffWaitMs).optional(),
  /** Default true: when the agent is not live, queue and answer `queued_not_listening` at once. */
  adaptive: z.boolean().optional(),
  loop: handoffLoopSchema.optional(),
  /** A person's handoff only: the runs the chain it starts may make (default: the hub's limit). */
  chainMaxRuns: z.number().int().min(1).max(10_000).optional(),
});
export type CreateHandoff = z.infer<typeof createHandoffSchema>;

/** `GET /v1/handoffs/:id`: wait (ms) for the reply; `after`: a reply later than this message. */
export const handoffQuerySchema = z.strictObject({
  wait: z.coerce.number().int().min(0).max(maxHandoffWaitMs).optional(),
  after: z.string().min(1).max(64).optional(),
});

/** `POST /v1/handoffs/:id/messages`: one more message from the asker in the handoff's thread. */
export const handoffMessageSchema = z.strictObject({
  body: z.string().min(1).max(maxMessageBytes),
  waitMs: z.number().int().min(0).max(maxHandoffWaitMs).optional(),
});

export const handoffSchema = z.object({
  /** The handoff's id: the id of its first message. */
  id: z.string(),
  /**
   * `timeout`: no reply within this request's wait (ask again to go on waiting);
   * `queued_not_listening`: the agent is not live, the work waits in its queue;
   * `would_deadlock`: asked inside a run, and the agent can run only where that run (or one
   * waiting on it) holds the folder or slot: answered at once, the work waits until it is free.
   */
  status: z.enum(handoffStatuses),
  /** Why, for `would_deadlock`. */
  reason: z.string().optional(),
  agent: partySchema,
  taskId: z.string().nullable(),
  threadId: z.string(),
  /** The agent's latest reply (null when none came). */
  reply: messageSchema.nullable(),
  /** Messages the asker sent in this handoff (the first one and each loop or follow-up round). */
  rounds: z.number().int(),
  /** The asker's latest message, the one a reply answers. */
  promptId: z.string(),
  intent: z.enum(taskIntents),
  loop: handoffLoopSchema.nullable(),
  reachability: z.enum(reachabilities),
});
export type Handoff = z.infer<typeof handoffSchema>;

/** `POST /v1/events`: what an agent reports of itself, e.g. its listener's full queue. */
export const appendEventSchema = z.strictObject({
  type: z
    .string()
    .regex(/^listener\.[a-z_]{1,60}$/, 'only listener.* events may be posted (e.g. listener.queue_full)'),
  subject: z.string().min(1).max(200).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
