/**
 * A hub attempt's end: how it ended becomes its `result` frame, and `finishAttempt` records the
 * attempt finished and queues that frame in the outbox, in one place for every ending.
 */
import type { ResultFrame } from '@gantry/protocol';
import type { RunOutcome } from './providers/provider.ts';
import type { GatewayDb } from './state/gateway-db.ts';
import { stoppedResult, type StopReason } from './stop-reasons.ts';

/** How an attempt ended. */
export type Ending =
  /** Its provider ran to the end, or until it was stopped for `reason` (`detail`: the hub's reason for a revoke). */
  | { how: 'ran'; outcome: RunOutcome; lastSeq: number; reason?: StopReason; detail?: string }
  /** Cancelled or timed out before its provider was spawned. */
  | { how: 'halted'; reason: 'cancelled' | 'timed_out' }
  /** The gateway could not see it to its end (swept after a restart, dropped after `starting`): the hub retries or fails it. */
  | { how: 'lost'; message: string };

export interface AttemptRef {
  assignmentId: string;
  attempt: number;
  agentId: string;
}

const notSpawned: RunOutcome = { status: 'failed', output: '', exitCode: null };

/** The `result` frame of an ending. */
export function resultOf(ref: AttemptRef, ending: Ending): ResultFrame {
  const attempt = { t: 'result' as const, assignmentId: ref.assignmentId, attempt: ref.attempt };
  switch (ending.how) {
    case 'ran': {
      const { outcome } = ending;
      const stopped = stoppedResult(ending.reason, ending.detail);
      const error = stopped?.error ?? outcome.error;
      return {
        ...attempt,
        status: stopped?.status ?? outcome.status,
        output: outcome.output,
        exitCode: outcome.exitCode,
        ...(error ? { error } : {}),
        lastSeq: ending.lastSeq,
        ...(outcome.details ? { details: outcome.details } : {}),
      };
    }
    case 'halted':
      return resultOf(ref, { how: 'ran', outcome: notSpawned, lastSeq: 0, reason: ending.reason });
    case 'lost':
      return {
        ...attempt,
        status: 'lost',
        output: '',
        exitCode: null,
        error: { code: 'gateway_lost', message: ending.message },
        lastSeq: 0,
      };
  }
}

/**
 * Records the attempt finished (a reconnect's `hello` then names it so) and queues its result
 * behind its events; returns the outbox row for sending at once.
 */
export function finishAttempt(db: GatewayDb, ref: AttemptRef, ending: Ending): { id: number; frame: string } {
  const result = resultOf(ref, ending);
  db.recordAttempt({ ...ref, state: 'finished', pid: null });
  const frame = JSON.stringify(result);
  const { assignmentId, attempt, lastSeq } = result;
  const id = db.enqueue({ assignmentId, attempt, kind: 'result', lastSeq, frame });
  return { id, frame };
}
