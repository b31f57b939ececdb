// Issue 11, cut 8: rules the hub, the gateway and the CLI share live once in protocol.
import { describe, expect, it } from 'vitest';
import {
  assignmentDefaults,
  durationLimits,
  failureCodeOf,
  failureCodes,
  GantryError,
  gatewayFrameSchema,
  localRunResultSchema,
  matchesActivityType,
  parseActivityTypes,
  RunFailure,
  withAssignmentDefaults,
} from '../src/index.ts';

describe('the activity type filter', () => {
  it('reads `a,b` and repeated values alike, trimmed, empty ones dropped', () => {
    expect(parseActivityTypes(['message.created, task.', ' ', 'approval.requested'])).toEqual([
      'message.created',
      'task.',
      'approval.requested',
    ]);
  });

  it('refuses what is no type with invalid_request (the CLI exits 2, the hub answers 400)', () => {
    const refused = () => parseActivityTypes(['message.created', 'rm -rf']);
    expect(refused).toThrow(GantryError);
    expect(refused).toThrow("invalid event type 'rm -rf'");
    expect(() => parseActivityTypes(['x'.repeat(101)])).toThrow(/invalid event type/);
  });

  it('matches an exact type or a prefix ending in "." and lets everything through when empty', () => {
    expect(matchesActivityType('task.updated', [])).toBe(true);
    expect(matchesActivityType('task.updated', ['task.'])).toBe(true);
    expect(matchesActivityType('task.updated', ['task.updated'])).toBe(true);
    expect(matchesActivityType('task.updated', ['task'])).toBe(false);
    expect(matchesActivityType('taskforce.created', ['task.'])).toBe(false);
    expect(matchesActivityType('message.created', ['task.', 'message.created'])).toBe(true);
  });
});

describe('assignment defaults', () => {
  it('fills what a request leaves out, as DESIGN §9 says', () => {
    expect(withAssignmentDefaults({})).toEqual({
      sessionKey: 'default',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60 * 60 * 1000,
      retries: 0,
    });
    expect(assignmentDefaults.timeoutMs).toBe(durationLimits.defaultTimeoutMs);
  });

  it('keeps what the request says, and treats undefined as left out', () => {
    const given = {
      sessionKey: 'review',
      mode: 'continue',
      resumeFallback: 'new',
      timeoutMs: 5_000,
      retries: 2,
    };
    expect(withAssignmentDefaults(given as Parameters<typeof withAssignmentDefaults>[0])).toEqual(given);
    expect(withAssignmentDefaults({ sessionKey: undefined, retries: 3 })).toMatchObject({
      sessionKey: 'default',
      retries: 3,
    });
  });
});

describe('failure codes', () => {
  const result = (code: string) => ({
    t: 'result',
    assignmentId: 'asg_1',
    attempt: 1,
    status: 'failed',
    output: '',
    exitCode: 1,
    lastSeq: 0,
    error: { code, message: 'x' },
  });

  it("a gateway's result frame carries only a known code", () => {
    for (const code of failureCodes) expect(gatewayFrameSchema.safeParse(result(code)).success).toBe(true);
    expect(gatewayFrameSchema.safeParse(result('exit')).success).toBe(false);
    expect(gatewayFrameSchema.safeParse(result('invalid_request')).success).toBe(false);
  });

  it("a local run's result carries only a known code", () => {
    const run = {
      id: 'run_1',
      agent: { id: 'agt_1', name: 'echo' },
      sessionKey: 'default',
      mode: 'new',
      workdir: '/tmp',
      status: 'failed',
      output: '',
      exitCode: null,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      events: [],
    };
    expect(
      localRunResultSchema.safeParse({ ...run, error: { code: 'spawn_failed', message: 'x' } }).success,
    ).toBe(true);
    expect(localRunResultSchema.safeParse({ ...run, error: { code: 'ENOENT', message: 'x' } }).success).toBe(
      false,
    );
  });

  it('a RunFailure names its code; anything else falls back', () => {
    const failure = new RunFailure('worktree_tampered', 'the .git was rewritten');
    expect(failure).toBeInstanceOf(Error);
    expect(failure.message).toBe('the .git was rewritten');
    expect(failureCodeOf(failure, 'spawn_failed')).toBe('worktree_tampered');
    const enoent = Object.assign(new Error('spawn codex ENOENT'), { code: 'ENOENT' });
    expect(failureCodeOf(enoent, 'spawn_failed')).toBe('spawn_failed');
    expect(failureCodeOf(new GantryError('invalid_request', 'x'), 'spawn_failed')).toBe('spawn_failed');
    expect(failureCodeOf(undefined, 'provider_failed')).toBe('provider_failed');
  });
});
