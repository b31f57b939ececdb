/** Assignment states, events and the JSON shapes the hub serves for them (DESIGN §3). */
import * as z from 'zod';
import {
  assignmentModes,
  assignmentStates,
  chainMaxRunsCeiling,
  resumeFallbacks,
  type AssignmentMode,
  type ResumeFallback,
} from './vocabulary.ts';

export {
  activeStates,
  assignmentModes,
  idempotencyKeyHeader,
  idempotentReplayedHeader,
  assignmentStates,
  chainMaxRunsCeiling,
  isTerminal,
  resumeFallbacks,
  terminalStates,
  type AssignmentMode,
  type AssignmentState,
  type ResumeFallback,
  type TerminalState,
} from './vocabulary.ts';

/** What a run can tell beyond its output: its worktree branch and changes, its token usage. */
export const resultDetailsSchema = z.object({
  /** With `--isolation worktree`: the branch the run's changes are committed on. */
  branch: z.string().optional(),
  /** With `--isolation worktree`: the files the run added, changed or deleted. */
  changedFiles: z.array(z.string()).optional(),
  /** With `--isolation worktree`: the branch's unified diff since its base, cut at 256 KiB. */
  patch: z.string().optional(),
  /** Set when `patch` was cut (the branch holds all of it). */
  patchTruncated: z.boolean().optional(),
  usage: z
    .object({
      inputTokens: z.number().int().nonnegative(),
      outputTokens: z.number().int().nonnegative(),
      costUsd: z.number().nonnegative().optional(),
    })
    .optional(),
  /**
   * False when the run chose to end without a reply (a generic `result` event with `"reply": false`):
   * the hub posts no message for it. An empty final text, or exactly `NO_REPLY`, counts the same.
   */
  reply: z.boolean().optional(),
});
export type ResultDetails = z.infer<typeof resultDetailsSchema>;

export const agentRefSchema = z.object({ id: z.string(), name: z.string() });

export const assignmentSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  agent: agentRefSchema,
  state: z.enum(assignmentStates),
  attempt: z.number().int(),
  prompt: z.string(),
  sessionKey: z.string(),
  mode: z.enum(assignmentModes),
  resumeFallback: z.enum(resumeFallbacks),
  timeoutMs: z.number().int(),
  retries: z.number().int(),
  gatewayId: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  result: z
    .object({
      output: z.string(),
      exitCode: z.number().int().nullable(),
      ...resultDetailsSchema.shape,
    })
    .nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** The chain it belongs to: its root (a person's message, assignment or task, or an unattended trigger). */
  chainId: z.string(),
  /** Runs from the chain's root to this one: 1 for a run a person started directly. */
  depth: z.number().int(),
});
export type Assignment = z.infer<typeof assignmentSchema>;

/** How many runs one chain may make: a person may allow more for one request (at most this). */
export const chainMaxRunsSchema = z.number().int().min(1).max(chainMaxRunsCeiling);

export const runEventSchema = z.object({
  seq: z.number().int().positive(),
  type: z.string().min(1).max(64),
  ts: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type RunEvent = z.infer<typeof runEventSchema>;

export const assignmentEventSchema = runEventSchema.extend({ attempt: z.number().int().positive() });
export type AssignmentEvent = z.infer<typeof assignmentEventSchema>;

export const durationLimits = {
  /** DESIGN §9: run timeout 60 min. */
  defaultTimeoutMs: 60 * 60 * 1000,
  maxTimeoutMs: 7 * 24 * 60 * 60 * 1000,
  maxRetries: 10,
  maxPromptBytes: 256 * 1024,
} as const;

/** The session key of an assignment that names none. */
export const defaultSessionKey = 'default';

/** An assignment's options, each set: what a request leaves out is defaulted. */
export interface AssignmentOptions {
  sessionKey: string;
  mode: AssignmentMode;
  resumeFallback: ResumeFallback;
  timeoutMs: number;
  retries: number;
}

/** What an assignment (the hub's, or a gateway's local run) is when its request leaves a field out. */
export const assignmentDefaults = {
  sessionKey: defaultSessionKey,
  mode: 'new',
  resumeFallback: 'fail',
  timeoutMs: durationLimits.defaultTimeoutMs,
  retries: 0,
} as const satisfies AssignmentOptions;

/** A request's session key, mode, resume fallback, timeout and retries, each defaulted when absent. */
export function withAssignmentDefaults(input: {
  [K in keyof AssignmentOptions]?: AssignmentOptions[K] | undefined;
}): AssignmentOptions {
  return {
    sessionKey: input.sessionKey ?? assignmentDefaults.sessionKey,
    mode: input.mode ?? assignmentDefaults.mode,
    resumeFallback: input.resumeFallback ?? assignmentDefaults.resumeFallback,
    timeoutMs: input.timeoutMs ?? assignmentDefaults.timeoutMs,
    retries: input.retries ?? assignmentDefaults.retries,
  };
}

/** A conversation's key: the provider session it maps to is resumed by `mode: continue`. */
export const sessionKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:@/-]+$/, 'letters, digits and . _ : @ / - only');

export const createAssignmentSchema = z.strictObject({
  agent: z.string().min(1).max(200),
  prompt: z.string().min(1).max(durationLimits.maxPromptBytes),
  sessionKey: sessionKeySchema.optional(),
  mode: z.enum(assignmentModes).optional(),
  resumeFallback: z.enum(resumeFallbacks).optional(),
  timeoutMs: z.number().int().positive().max(durationLimits.maxTimeoutMs).optional(),
  retries: z.number().int().min(0).max(durationLimits.maxRetries).optional(),
  /** A person's request only: the runs its chain may make (default: the hub's `--chain-max-runs`). */
  chainMaxRuns: chainMaxRunsSchema.optional(),
  /**
   * The caller will wait for the end (`gantry assign --wait/--follow`): made inside a run, an
   * assignment that could not start until that run ends is refused (`would_deadlock`), not created.
   */
  wait: z.boolean().optional(),
});
export type CreateAssignment = z.infer<typeof createAssignmentSchema>;

export const listAssignmentsQuerySchema = z.strictObject({
  agent: z.string().min(1).optional(),
  state: z.enum(assignmentStates).optional(),
  /** Only the assignments of this chain. */
  chain: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** The most events one JSON answer of `GET /v1/assignments/:id/events` holds (and its default). */
export const maxEventsPage = 10_000;

/** `since`: the position (`ATTEMPT:SEQ`) after which to answer; `limit`: at most this many. */
export const assignmentEventsQuerySchema = z.strictObject({
  since: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(maxEventsPage).optional(),
});
