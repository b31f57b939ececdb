/** Chains of runs (DESIGN §6a): `GET /v1/chains/:id` and `POST /v1/chains/:id/continue`. */
import { z } from 'zod';
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
