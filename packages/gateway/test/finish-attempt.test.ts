// Proves the one way a hub attempt ends: for each ending (ran, stopped while running, halted before
// it spawned, lost) the result frame queued in the outbox behind the attempt's events, valid for the
// hub, and the attempt recorded finished so a reconnect's hello names it so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gatewayFrameSchema } from '@gantry/protocol';
import { finishAttempt, type Ending } from '../src/attempt-runner.ts';
import { GatewayDb } from '../src/state/gateway-db.ts';

let dir: string;
let db: GatewayDb;
const ref = { assignmentId: 'asg_1', attempt: 2, agentId: 'agt_1' };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-finish-'));
  db = new GatewayDb(join(dir, 'gateway.db'));
  db.recordAttempt({ ...ref, state: 'running', pid: 4242 });
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Finishes the attempt; returns the result frame as the hub will parse it, checking the outbox row. */
function finished(ending: Ending) {
  const { id, frame } = finishAttempt(db, ref, ending);
  const row = db.pending().find((r) => r.id === id);
  expect(row).toMatchObject({ assignmentId: 'asg_1', attempt: 2, kind: 'result', frame });
  const parsed = gatewayFrameSchema.parse(JSON.parse(frame));
  expect(row?.lastSeq).toBe(parsed.t === 'result' ? parsed.lastSeq : -1);
  return parsed;
}

describe('finishAttempt', () => {
  it('queues the result of a run that ended behind its events, and records the attempt finished', () => {
    db.enqueue({ assignmentId: 'asg_1', attempt: 2, kind: 'events', lastSeq: 7, frame: '{"t":"events"}' });
    const result = finished({
      how: 'ran',
      outcome: {
        status: 'succeeded',
        output: 'done',
        exitCode: 0,
        sessionId: 'thread_1',
        details: { branch: 'gantry/asg_1' },
      },
      lastSeq: 7,
    });
    expect(result).toEqual({
      t: 'result',
      assignmentId: 'asg_1',
      attempt: 2,
      status: 'succeeded',
      output: 'done',
      exitCode: 0,
      lastSeq: 7,
      details: { branch: 'gantry/asg_1' },
    });
    expect(db.pending().map((r) => r.kind)).toEqual(['events', 'result']);
    expect(db.attempts()).toEqual([{ ...ref, state: 'finished', pid: null, pidStart: null, lastSeq: 0 }]);
  });

  it("keeps a failed run's own error", () => {
    const error = { code: 'resume_failed', message: 'no such thread' } as const;
    expect(
      finished({ how: 'ran', outcome: { status: 'failed', output: '', exitCode: 1, error }, lastSeq: 2 }),
    ).toMatchObject({ status: 'failed', exitCode: 1, error, lastSeq: 2 });
  });

  it("reports a run stopped while it ran by the stop's reason, whatever the provider said", () => {
    const outcome = {
      status: 'failed' as const,
      output: 'half',
      exitCode: 130,
      error: { code: 'provider_failed' as const, message: 'x' },
    };
    expect(finished({ how: 'ran', outcome, lastSeq: 3, reason: 'cancelled' })).toMatchObject({
      status: 'cancelled',
      output: 'half',
      exitCode: 130,
      error: { code: 'cancelled' },
      lastSeq: 3,
    });
    expect(
      finished({ how: 'ran', outcome, lastSeq: 3, reason: 'revoked', detail: 'lease expired' }),
    ).toMatchObject({
      status: 'lost',
      error: { code: 'revoked', message: expect.stringContaining('(lease expired)') },
    });
    expect(finished({ how: 'ran', outcome, lastSeq: 3, reason: 'cut_off' })).toMatchObject({
      status: 'lost',
      error: { code: 'gateway_lost', message: expect.stringContaining('out of contact') },
    });
  });

  it('reports an attempt cancelled or timed out before its provider spawned, with no output', () => {
    expect(finished({ how: 'halted', reason: 'cancelled' })).toEqual({
      t: 'result',
      assignmentId: 'asg_1',
      attempt: 2,
      status: 'cancelled',
      output: '',
      exitCode: null,
      error: { code: 'cancelled', message: 'cancelled; the process group was stopped' },
      lastSeq: 0,
    });
    expect(finished({ how: 'halted', reason: 'timed_out' })).toMatchObject({
      status: 'timed_out',
      error: { code: 'timed_out' },
      lastSeq: 0,
    });
  });

  it('reports an attempt the gateway lost sight of as lost, for the hub to retry or fail', () => {
    expect(finished({ how: 'lost', message: 'the gateway restarted while this attempt ran' })).toEqual({
      t: 'result',
      assignmentId: 'asg_1',
      attempt: 2,
      status: 'lost',
      output: '',
      exitCode: null,
      error: { code: 'gateway_lost', message: 'the gateway restarted while this attempt ran' },
      lastSeq: 0,
    });
    expect(db.attempts()[0]?.state).toBe('finished');
  });
});
