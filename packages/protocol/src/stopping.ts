/**
 * Stopping many things at once (issue 12): every run of an agent (`assignments cancel --agent NAME
 * --all`), and the workspace's emergency brake (`stop --all`, undone by `resume --all`).
 */
import * as z from 'zod';
import { agentRefSchema } from './assignment.ts';

/**
 * `POST /v1/assignments/cancel`: every assignment not ended yet of the agent (`{agent, all: true}`)
 * or of the chain (`{chain}`).
 */
export const cancelManySchema = z
  .strictObject({
    agent: z.string().min(1).max(200).optional(),
    all: z.literal(true).optional(),
    chain: z.string().min(1).max(64).optional(),
  })
  .refine((b) => (b.chain !== undefined) !== (b.agent !== undefined && b.all === true), {
    message: 'give {"agent": NAME, "all": true} or {"chain": ID}',
  });
export type CancelMany = z.infer<typeof cancelManySchema>;

export const cancelManyResultSchema = z.object({
  /** Assignments cancelled (queued ones at once, running ones being stopped by their gateway). */
  cancelled: z.array(z.string()),
});
export type CancelManyResult = z.infer<typeof cancelManyResultSchema>;

/** `POST /v1/stop` and `POST /v1/resume`: `{ "all": true }` (nothing narrower yet). */
export const stopAllSchema = z.strictObject({ all: z.literal(true) });

export const stopAllResultSchema = z.object({
  /** Agents this stop paused (those already paused are not listed, and `resume --all` leaves them). */
  paused: z.array(agentRefSchema),
  cancelled: z.array(z.string()),
  /** How many of those were queued (or offered) and how many had started. */
  queued: z.number().int(),
  running: z.number().int(),
  /** The one summary message posted instead of a reply per cancelled run. */
  messageId: z.string(),
});
export type StopAllResult = z.infer<typeof stopAllResultSchema>;

export const resumeAllResultSchema = z.object({
  /** Agents `stop --all` paused and this resumed. */
  resumed: z.array(agentRefSchema),
});
export type ResumeAllResult = z.infer<typeof resumeAllResultSchema>;
