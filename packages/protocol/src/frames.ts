/**
 * Frames on the hub <-> gateway WebSocket (`/v1/gateway/ws`, DESIGN §4). Every frame is JSON
 * `{ "t": type, ... }` and is validated against these schemas on receipt.
 */
import * as z from 'zod';
import { assignmentModes, resultDetailsSchema, resumeFallbacks, runEventSchema } from './assignment.ts';
import { failureCodes } from './failures.ts';

const attemptRef = { assignmentId: z.string().min(1).max(64), attempt: z.number().int().positive() };
/**
 * Every offer has its own id (a fencing token, DESIGN §3): `accept`, `reject` and `starting` name
 * the offer they answer, so the hub can tell an answer to a lapsed offer from one to the current
 * offer of the same attempt. Optional on the wire only for peers older than it.
 */
const offerRef = { offerId: z.string().min(1).max(64).optional() };

/** What the gateway knows of an attempt it still holds when it (re)connects. */
export const heldAttemptSchema = z.strictObject({
  ...attemptRef,
  /** `finished` means the run ended and its result waits in the outbox. */
  state: z.enum(['accepted', 'starting', 'running', 'finished']),
});
export type HeldAttempt = z.infer<typeof heldAttemptSchema>;

const servedAgentSchema = z.strictObject({
  agentId: z.string().min(1).max(64),
  provider: z.string().min(1).max(64),
  /** Free slots for this agent's binding right now. */
  slots: z.number().int().min(0).max(1024),
});

/** What `gateway bind` set for a served agent, mirrored to the hub (changes go to its audit log). */
export const bindingSummarySchema = z.strictObject({
  agentId: z.string().min(1).max(64),
  provider: z.string().min(1).max(64),
  workdir: z.string().max(4096),
  isolation: z.string().max(64).nullable(),
  /** Runs may share the workdir at once (`gateway bind --parallel`). */
  parallel: z.boolean().optional(),
});
export type BindingSummary = z.infer<typeof bindingSummarySchema>;

const capacity = {
  /** Free slots on the whole gateway right now. */
  slots: z.number().int().min(0).max(1024),
  agents: z.array(servedAgentSchema).max(1024),
};

// ---- gateway -> hub ----------------------------------------------------------------------------

export const helloFrame = z.strictObject({
  t: z.literal('hello'),
  token: z.string().min(1).max(512),
  version: z.string().max(64),
  hostname: z.string().max(255).optional(),
  osUser: z.string().max(255).optional(),
  /** The hub's `welcome` nonce signed with this install's device key (Ed25519, base64url). */
  signature: z.string().max(512).optional(),
  bindings: z.array(bindingSummarySchema).max(1024).optional(),
  ...capacity,
  held: z.array(heldAttemptSchema).max(4096),
});

export const heartbeatFrame = z.strictObject({
  t: z.literal('heartbeat'),
  ...capacity,
  /** The number of the last offer received on this connection, so the hub knows which offers the slots count. */
  seenOffers: z.number().int().min(0),
  bindings: z.array(bindingSummarySchema).max(1024).optional(),
});
export const acceptFrame = z.strictObject({ t: z.literal('accept'), ...attemptRef, ...offerRef });
export const rejectFrame = z.strictObject({
  t: z.literal('reject'),
  ...attemptRef,
  ...offerRef,
  reason: z.string().max(1000),
});
export const startingFrame = z.strictObject({ t: z.literal('starting'), ...attemptRef, ...offerRef });
export const runningFrame = z.strictObject({ t: z.literal('running'), ...attemptRef });
export const eventsFrame = z.strictObject({
  t: z.literal('events'),
  ...attemptRef,
  events: z.array(runEventSchema).min(1).max(1000),
});
/**
 * `lost`: the gateway could not see the run to its end (it was stopped or restarted while the run
 * went on); the hub then decides as for a lost gateway: another attempt if retries allow, else
 * `failed` with `gateway_lost`.
 */
export const resultStatuses = ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'] as const;
export const resultFrame = z.strictObject({
  t: z.literal('result'),
  ...attemptRef,
  status: z.enum(resultStatuses),
  output: z.string(),
  exitCode: z.number().int().nullable(),
  error: z.strictObject({ code: z.enum(failureCodes), message: z.string() }).optional(),
  /** The highest event seq of this attempt, so the hub knows every event is in. */
  lastSeq: z.number().int().min(0),
  details: resultDetailsSchema.optional(),
});

/** The answer to an `attach`: the agent is saved and served, or why not. */
export const attachedFrame = z.strictObject({
  t: z.literal('attached'),
  requestId: z.string().min(1).max(64),
  agentId: z.string().min(1).max(64),
  ok: z.boolean(),
  error: z.string().max(1000).optional(),
  /** Where the agent runs on that machine (its own folder under the workspace root unless bound to one). */
  workdir: z.string().max(4096).optional(),
});

export const gatewayFrameSchema = z.discriminatedUnion('t', [
  attachedFrame,
  helloFrame,
  heartbeatFrame,
  acceptFrame,
  rejectFrame,
  startingFrame,
  runningFrame,
  eventsFrame,
  resultFrame,
]);
export type GatewayFrame = z.infer<typeof gatewayFrameSchema>;
export type HelloFrame = z.infer<typeof helloFrame>;
export type ResultFrame = z.infer<typeof resultFrame>;
export type HeartbeatFrame = z.infer<typeof heartbeatFrame>;
export type EventsFrame = z.infer<typeof eventsFrame>;

// ---- hub -> gateway ----------------------------------------------------------------------------

export const offeredAssignmentSchema = z.object({
  id: z.string(),
  attempt: z.number().int().positive(),
  agentId: z.string(),
  agentName: z.string(),
  prompt: z.string(),
  sessionKey: z.string(),
  mode: z.enum(assignmentModes),
  resumeFallback: z.enum(resumeFallbacks).default('fail'),
  timeoutMs: z.number().int().positive(),
});
export type OfferedAssignment = z.infer<typeof offeredAssignmentSchema>;

export const hubFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('welcome'), nonce: z.string(), version: z.string() }),
  z.object({
    t: z.literal('hello_ok'),
    gatewayId: z.string(),
    workspaceId: z.string(),
    agents: z.array(z.object({ id: z.string(), name: z.string() })),
    heartbeatMs: z.number().int().positive(),
    leaseMs: z.number().int().positive(),
    /**
     * How long after a lease runs out the hub still waits for the gateway. A gateway out of
     * contact for lease + grace stops its runs: the hub has given them up (absent from older hubs).
     */
    graceMs: z.number().int().positive().optional(),
  }),
  z.object({
    t: z.literal('offer'),
    n: z.number().int().positive(),
    /** This offer's own id (absent from older hubs): its answers name it. */
    offerId: z.string().optional(),
    assignment: offeredAssignmentSchema,
  }),
  z.object({ t: z.literal('claimed'), ...attemptRef, ...offerRef }),
  z.object({
    t: z.literal('start'),
    ...attemptRef,
    ...offerRef,
    /**
     * The run's own credential (`gnt_r_`): bound to this assignment and its agent, revoked when the
     * run ends. The run gets it in `GANTRY_TOKEN_FILE`; the agent's key stays with the gateway.
     */
    runToken: z.string().optional(),
  }),
  z.object({ t: z.literal('events_ack'), ...attemptRef, seq: z.number().int().min(0) }),
  z.object({ t: z.literal('result_ack'), ...attemptRef }),
  z.object({ t: z.literal('cancel'), ...attemptRef, reason: z.enum(['cancelled', 'timed_out']) }),
  /**
   * The hub no longer gives this attempt to this gateway. With `offerId` it withdraws only that
   * offer: a gateway holding the attempt under another offer ignores it. Without, it stops the
   * attempt whatever offer it came with; a run already going then ends `lost`, never `cancelled`.
   */
  z.object({ t: z.literal('revoke'), ...attemptRef, ...offerRef, reason: z.string() }),
  /**
   * A user decided a `permission_requested` event of this attempt (the gateway answers the waiting
   * agent and emits `permission_decided`). Sent again after a reconnect until that event arrives.
   */
  z.object({
    t: z.literal('permission'),
    ...attemptRef,
    requestId: z.string(),
    approvalId: z.string(),
    decision: z.enum(['approved', 'denied']),
  }),
  /**
   * An owner or admin added an agent for this gateway (`gantry agents add --gateway`): its key and
   * binding, which the gateway saves (0600) and serves at once, then answers with `attached`.
   */
  z.object({
    t: z.literal('attach'),
    requestId: z.string(),
    agent: z.object({ id: z.string(), name: z.string() }),
    key: z.string(),
    binding: z.object({
      provider: z.string(),
      workdir: z.string().optional(),
      providerBin: z.string().optional(),
      settings: z.record(z.string(), z.unknown()),
    }),
  }),
  /** The agent's key was rotated: its runs get this key from now on (the old one is revoked). */
  z.object({ t: z.literal('rekey'), agentId: z.string(), key: z.string() }),
  /** The agent was removed or detached: forget its key and binding, serve it no more. */
  z.object({ t: z.literal('detach'), agentId: z.string() }),
  z.object({ t: z.literal('error'), code: z.string(), message: z.string() }),
  /** The hello is held: this device waits for a person to approve it; `hello_ok` follows if they do. */
  z.object({ t: z.literal('pending'), approvalId: z.string(), message: z.string() }),
]);
export type HubFrame = z.infer<typeof hubFrameSchema>;
export type HubFrameOf<T extends HubFrame['t']> = Extract<HubFrame, { t: T }>;
export type GatewayFrameOf<T extends GatewayFrame['t']> = Extract<GatewayFrame, { t: T }>;

/** The largest frame either side sends: 1000 events of a few KiB fit comfortably. */
export const maxFrameBytes = 16 * 1024 * 1024;
/** The one frame the hub reads from a gateway before its hello is served: the hello itself. */
export const maxHelloFrameBytes = 64 * 1024;
