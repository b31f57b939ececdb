/** The gateway's local API (127.0.0.1): running an agent on this machine without the hub. */
import * as z from 'zod';
import {
  assignmentModes,
  durationLimits,
  resultDetailsSchema,
  resumeFallbacks,
  runEventSchema,
  sessionKeySchema,
} from './assignment.ts';
import { failureCodes } from './failures.ts';

export const localRunSchema = z.strictObject({
  /** The agent, by id or name: one this gateway serves. */
  agentId: z.string().min(1).max(200),
  prompt: z.string().min(1).max(durationLimits.maxPromptBytes),
  sessionKey: sessionKeySchema.optional(),
  mode: z.enum(assignmentModes).optional(),
  resumeFallback: z.enum(resumeFallbacks).optional(),
  /** A folder to run in instead of the agent's bound workdir. */
  workspace: z.string().min(1).max(4096).optional(),
  timeoutMs: z.number().int().positive().max(durationLimits.maxTimeoutMs).optional(),
});
export type LocalRunInput = z.infer<typeof localRunSchema>;

export const localRunStatuses = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;

export const localRunResultSchema = z.object({
  id: z.string(),
  agent: z.object({ id: z.string(), name: z.string() }),
  sessionKey: z.string(),
  mode: z.enum(assignmentModes),
  workdir: z.string(),
  status: z.enum(localRunStatuses),
  output: z.string(),
  exitCode: z.number().int().nullable(),
  error: z.object({ code: z.enum(failureCodes), message: z.string() }).nullable(),
  details: resultDetailsSchema.optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  events: z.array(runEventSchema),
});
export type LocalRunResult = z.infer<typeof localRunResultSchema>;

/** Frames on `GET /api/agent/ws`: the client sends one `run`, may send `cancel`; the gateway streams. */
export const localWsClientFrame = z.discriminatedUnion('t', [
  localRunSchema.extend({ t: z.literal('run') }),
  z.strictObject({ t: z.literal('cancel') }),
]);
export type LocalWsServerFrame =
  | { t: 'started'; id: string; workdir: string }
  | { t: 'event'; event: z.infer<typeof runEventSchema> }
  | { t: 'result'; run: LocalRunResult }
  | { t: 'error'; code: string; message: string };
