/**
 * Chains of runs (DESIGN §6a): `GET /v1/chains` (those the caller may see; `?state=stopped`: those
 * stopped at a limit, waiting on a person), `GET /v1/chains/:id`, `POST /v1/chains/:id/continue` and
 * `POST /v1/chains/:id/dismiss`.
 */
import * as z from 'zod';
import { agentRefSchema, assignmentStates, chainMaxRunsSchema, resultDetailsSchema } from './assignment.ts';
import { partySchema } from './collaboration.ts';

/** One run of a chain, as its tree shows it. */
export const chainRunSchema = z.object({
  id: z.string(),
  agent: agentRefSchema,
  state: z.enum(assignmentStates),
  depth: z.number().int(),
  /** The run whose action started this one; null for the chain's first runs. */
  causeId: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** From start to end (or to now while it runs); null before it started. */
  durationMs: z.number().int().nullable(),
  usage: resultDetailsSchema.shape.usage,
});
export type ChainRun = z.infer<typeof chainRunSchema>;

/** A trigger the chain's limits stopped: `chains continue` runs it. */
export const stoppedTriggerSchema = z.object({
  agent: agentRefSchema,
  depth: z.number().int(),
  messageId: z.string().nullable(),
  taskId: z.string().nullable(),
});

export const chainSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  /** What started it: a person's message, assignment or task, or an unattended trigger. */
  root: z.object({ kind: z.enum(['message', 'assignment', 'task', 'trigger']), id: z.string() }),
  /** The person at its root (limit and approval messages go to them); null when unattended. */
  person: partySchema.nullable(),
  maxDepth: z.number().int(),
  maxRuns: z.number().int(),
  /** Runs it made so far, oldest first. */
  runs: z.array(chainRunSchema),
  stopped: z.array(stoppedTriggerSchema),
  /** Since when a limit stopped it and it waits on a person; null once it went on or was dismissed. */
  stoppedAt: z.string().nullable(),
  usage: z.object({
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costUsd: z.number(),
  }),
});
export type Chain = z.infer<typeof chainSchema>;

/** `POST /v1/chains/:id/continue`: this many more runs (default: the hub's `--chain-max-runs`). */
export const continueChainSchema = z.strictObject({
  runs: chainMaxRunsSchema.optional(),
});
export type ContinueChain = z.infer<typeof continueChainSchema>;

export const chainLimits = ['depth', 'runs'] as const;

/** Where a chain stopped at its limit stands until it is continued or dismissed. */
export const chainStopSchema = z.object({
  /** When a limit first stopped it (since it last went on). */
  at: z.string(),
  /** The limit that stopped it last. */
  limit: z.enum(chainLimits),
  /** The agent its last stop did not run. */
  agent: agentRefSchema,
  /** Triggers `continue` would run (none when only a run's own request was refused). */
  waiting: z.number().int(),
});
export type ChainStop = z.infer<typeof chainStopSchema>;

/** A chain in a list: its root, who started it, its limits, and whether it is stopped. */
export const chainSummarySchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  root: chainSchema.shape.root,
  person: partySchema.nullable(),
  /** The first line of its root: a message's body, an assignment's prompt, a task's title. */
  head: z.string().nullable(),
  createdAt: z.string(),
  maxDepth: z.number().int(),
  maxRuns: z.number().int(),
  /** Runs it made so far. */
  runs: z.number().int(),
  /** The deepest of its runs so far (0 before the first). */
  depth: z.number().int(),
  /** Its runs not ended yet (queued, starting, running, cancelling). */
  active: z.number().int(),
  /** Triggers its limits stopped that have not run yet, whether it still waits on a person or was dismissed. */
  held: z.number().int(),
  stop: chainStopSchema.nullable(),
});
export type ChainSummary = z.infer<typeof chainSummarySchema>;

/**
 * `GET /v1/chains`: owners and admins see every chain of the workspace, a member those they started.
 * `state=stopped`: only chains stopped at a limit, oldest stop first; else newest first.
 */
export const listChainsQuerySchema = z.strictObject({
  state: z.enum(['stopped']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export type ListChainsQuery = z.infer<typeof listChainsQuerySchema>;
