/**
 * The activity log's entry types (DESIGN §2), each defined once with the shape of its `data`: the
 * hub writes entries by their definition and readers narrow by it. Adding a type is one
 * `defineActivity` here. What only the hub needs (the work dispatcher's bookkeeping) is never part
 * of these shapes, so it never reaches the public feed.
 */
import * as z from 'zod';
import { approvalKinds, approvalStatuses } from './approvals.ts';
import { agentRefSchema, assignmentModes, assignmentStates } from './assignment.ts';
import {
  contextEntrySchema,
  messageSchema,
  partySchema,
  taskSchema,
  type ActivityEvent,
} from './collaboration.ts';

/** Where `data` is an object: every entry's payload is one. */
type DataSchema = z.ZodType<Record<string, unknown>>;

export interface ActivityDefinition<T extends string = string, D extends DataSchema = DataSchema> {
  /** The entry's `type`; one ending in `.*` names a family (`listener.*`) whose members share `data`. */
  readonly type: T;
  readonly data: D;
}

/** The `type` an entry of a definition carries: the type itself, or a member of its family. */
export type ActivityType<T extends string> = T extends `${infer Family}.*` ? `${Family}.${string}` : T;

/** The `data` of an entry of a definition. */
export type ActivityData<A extends ActivityDefinition> = z.infer<A['data']>;

const definitions = new Map<string, ActivityDefinition>();

/** Declares an entry type and the shape of its `data` (each type once). */
export function defineActivity<T extends string, D extends DataSchema>(
  type: T,
  data: D,
): ActivityDefinition<T, D> {
  if (definitions.has(type)) throw new Error(`activity type '${type}' is defined twice`);
  const definition = { type, data };
  definitions.set(type, definition);
  return definition;
}

/** The definition an entry type falls under: its own, else its family's (`listener.*`). */
export function activityDefinition(type: string): ActivityDefinition | undefined {
  const dot = type.indexOf('.');
  return definitions.get(type) ?? (dot > 0 ? definitions.get(`${type.slice(0, dot)}.*`) : undefined);
}

/** Every type defined, families as `name.*`. */
export function activityTypes(): string[] {
  return [...definitions.keys()];
}

/** Whether `event` is an entry of `definition`; its `data` is then typed by it. */
export function isActivity<T extends string, D extends DataSchema>(
  event: ActivityEvent,
  definition: ActivityDefinition<T, D>,
): event is ActivityEvent & { type: ActivityType<T>; data: z.infer<D> } {
  return definition.type.endsWith('.*')
    ? event.type.startsWith(definition.type.slice(0, -1))
    : event.type === definition.type;
}

// ---- the entries -------------------------------------------------------------------------------

/** Every `assignment.*` entry names the assignment, its agent and the attempt. */
const assignmentRef = { assignmentId: z.string(), agent: agentRefSchema, attempt: z.number().int() };
const failure = z.object({ code: z.string(), message: z.string() });

export const assignmentCreated = defineActivity(
  'assignment.created',
  z.object({
    ...assignmentRef,
    state: z.literal('queued'),
    /** The first 200 characters. */
    prompt: z.string(),
    sessionKey: z.string(),
    mode: z.enum(assignmentModes),
  }),
);

export const assignmentStarted = defineActivity(
  'assignment.started',
  z.object({ ...assignmentRef, state: z.literal('running'), gatewayId: z.string() }),
);

/** A run's newest provider `status` event of a batch. */
export const assignmentProgress = defineActivity(
  'assignment.progress',
  z.object({
    ...assignmentRef,
    state: z.enum(assignmentStates),
    message: z.string(),
    progress: z.number().optional(),
    seq: z.number().int(),
  }),
);

export const assignmentFinished = defineActivity(
  'assignment.finished',
  z.object({
    ...assignmentRef,
    state: z.enum(assignmentStates),
    error: failure.nullable(),
    /** The first 500 characters. */
    output: z.string().nullable(),
    exitCode: z.number().int().nullable(),
  }),
);

export const messageCreated = defineActivity('message.created', z.object({ message: messageSchema }));

/** A mention (or a task's message) started a managed agent's run. */
export const mentionDispatched = defineActivity(
  'mention.dispatched',
  z.object({
    messageId: z.string(),
    agent: agentRefSchema,
    assignmentId: z.string(),
    sessionKey: z.string(),
    taskId: z.string().optional(),
  }),
);

/**
 * A trigger went past its chain's limit (it replaces `mention.hop_limit`): nothing ran and no
 * assignment was made; the person at the chain's root was told, and may `chains continue` it.
 */
export const chainLimitReached = defineActivity(
  'chain.limit_reached',
  z.object({
    chainId: z.string(),
    /** Which limit stopped it. */
    limit: z.enum(['depth', 'runs']),
    /** The agent that was not run, and the depth its run would have had. */
    agent: agentRefSchema,
    depth: z.number().int(),
    /** Runs the chain had made. */
    runs: z.number().int(),
    maxDepth: z.number().int(),
    maxRuns: z.number().int(),
    /** What asked for the run: a message, a task, or an assignment asked for by a run. */
    messageId: z.string().optional(),
    taskId: z.string().optional(),
    /** The run whose action was stopped. */
    causeId: z.string().optional(),
  }),
);

/** The person at a chain's root (or an owner or admin) let it go on past its limits. */
export const chainContinued = defineActivity(
  'chain.continued',
  z.object({ chainId: z.string(), maxDepth: z.number().int(), maxRuns: z.number().int() }),
);

/** The person at a chain's root (or an owner or admin) left a stopped chain stopped: it no longer waits on them. */
export const chainDismissed = defineActivity('chain.dismissed', z.object({ chainId: z.string() }));

/** The fields of a task a `task.*` entry says changed. */
export const taskFields = [
  'title',
  'body',
  'status',
  'priority',
  'assignee',
  'error',
  'assignmentId',
  'threadId',
] as const;
export type TaskField = (typeof taskFields)[number];

const taskChange = z.object({ task: taskSchema, changes: z.array(z.enum(taskFields)) });
export const taskCreated = defineActivity('task.created', taskChange);
export const taskUpdated = defineActivity('task.updated', taskChange);

export const contextSet = defineActivity(
  'context.set',
  z.object({ entry: contextEntrySchema, replaced: z.boolean() }),
);
export const contextDeleted = defineActivity(
  'context.deleted',
  z.object({ key: z.string(), kind: contextEntrySchema.shape.kind }),
);

/** A recipient read mail of theirs: unread counts and marks change (no message text). */
export const messageRead = defineActivity(
  'message.read',
  z.object({ reader: partySchema, messageIds: z.array(z.string()) }),
);

/** A gateway connected to this hub, or left it: the agents it serves are live, or no longer through it. */
const gatewayPresence = z.object({
  gateway: z.object({ id: z.string(), name: z.string() }),
  agents: z.array(agentRefSchema),
});
export const gatewayConnected = defineActivity('gateway.connected', gatewayPresence);
export const gatewayDisconnected = defineActivity('gateway.disconnected', gatewayPresence);

export const agentPaused = defineActivity('agent.paused', z.object({ agent: agentRefSchema }));
export const agentResumed = defineActivity('agent.resumed', z.object({ agent: agentRefSchema }));

/** `gantry stop --all`: one entry for the whole brake (no `agent.paused` per agent). */
export const workspaceStopped = defineActivity(
  'workspace.stopped',
  z.object({ paused: z.array(agentRefSchema), cancelled: z.array(z.string()), messageId: z.string() }),
);
/** `gantry resume --all`: the agents `stop --all` paused, resumed. */
export const workspaceResumed = defineActivity(
  'workspace.resumed',
  z.object({ resumed: z.array(agentRefSchema) }),
);

/** A decision now waits on a person (a tool request, a device, a changed fingerprint, a folder). */
export const approvalRequested = defineActivity(
  'approval.requested',
  z.object({
    approvalId: z.string(),
    kind: z.enum(approvalKinds),
    status: z.literal('pending'),
    subject: z.string(),
    agent: agentRefSchema,
    assignmentId: z.string().optional(),
    gatewayId: z.string().optional(),
  }),
);

export const approvalDecided = defineActivity(
  'approval.decided',
  z.object({
    approvalId: z.string(),
    kind: z.enum(approvalKinds),
    status: z.enum(approvalStatuses),
    subject: z.string(),
  }),
);

/** What an agent reports of itself (`POST /v1/events`, e.g. `listener.queue_full`): its own data. */
export const listenerReported = defineActivity('listener.*', z.record(z.string(), z.unknown()));
