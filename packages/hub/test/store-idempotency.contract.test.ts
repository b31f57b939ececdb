/**
 * The store contract for `Idempotency-Key`s (issue 15), on SQLite and PostgreSQL alike: a key of a
 * workspace is claimed once, by exactly one of several racing claims; it lapses after its window;
 * a failed request releases it; an assignment with a fixed id is created at most once.
 */
import { expect, it } from 'vitest';
import type { Store } from '../src/store/store.ts';
import { at, describeContract, seed, unique } from './store-fixtures.ts';

describeContract('store contract: idempotency keys', (c) => {
  const store = (): Store => c.store;
  const row = (key: string, assignment: string, offset = 0, workspace = c.s.ws.id) => ({
    workspace_id: workspace,
    key,
    fingerprint: 'fp-1',
    assignment_id: assignment,
    created_at: at(offset),
  });

  it('idempotency keys: claimed once per workspace, found while fresh, released only by their claim', async () => {
    const key = unique('key');
    expect(await store().idempotencyKeys.find(c.s.ws.id, key, at(0))).toBeUndefined();
    expect(await store().idempotencyKeys.claim(row(key, 'asg-1', 10), at(0))).toBe(true);
    expect(await store().idempotencyKeys.claim(row(key, 'asg-2', 11), at(0))).toBe(false);
    expect(await store().idempotencyKeys.find(c.s.ws.id, key, at(0))).toEqual(row(key, 'asg-1', 10));
    // Past its window it is not found, and may be claimed again.
    expect(await store().idempotencyKeys.find(c.s.ws.id, key, at(11))).toBeUndefined();
    expect(await store().idempotencyKeys.claim(row(key, 'asg-3', 20), at(11))).toBe(true);
    expect(await store().idempotencyKeys.find(c.s.ws.id, key, at(0))).toEqual(row(key, 'asg-3', 20));

    // Another workspace has keys of its own.
    const other = await seed(store());
    expect(await store().idempotencyKeys.claim(row(key, 'asg-4', 20, other.ws.id), at(0))).toBe(true);

    // Only the claim that names the assignment releases the key.
    await store().idempotencyKeys.release(c.s.ws.id, key, 'asg-1');
    expect(await store().idempotencyKeys.find(c.s.ws.id, key, at(0))).toMatchObject({
      assignment_id: 'asg-3',
    });
    await store().idempotencyKeys.release(c.s.ws.id, key, 'asg-3');
    expect(await store().idempotencyKeys.find(c.s.ws.id, key, at(0))).toBeUndefined();
    expect(await store().idempotencyKeys.find(other.ws.id, key, at(0))).toMatchObject({
      assignment_id: 'asg-4',
    });
  });

  it('idempotency keys: of ten racing claims of one key exactly one wins', async () => {
    const key = unique('key');
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store().idempotencyKeys.claim(row(key, `asg-${i}`, i), at(0))),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = claims.indexOf(true);
    expect(await store().idempotencyKeys.find(c.s.ws.id, key, at(0))).toMatchObject({
      assignment_id: `asg-${winner}`,
    });
  });

  it('assignments: createIfAbsent makes a fixed id once; racing creates of it make one row', async () => {
    const id = unique('asg');
    const input = {
      id,
      workspaceId: c.s.ws.id,
      agentId: c.s.agent.id,
      prompt: 'once',
      sessionKey: 'main',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60_000,
      retries: 0,
      createdBy: `user:${c.s.user.id}`,
    };
    const made = await Promise.all([1, 2, 3].map((n) => store().assignments.createIfAbsent(input, at(n))));
    const rows = made.filter((r) => r !== undefined);
    expect(rows).toHaveLength(1);
    expect(await store().assignments.get(id)).toMatchObject({ id, prompt: 'once', state: 'queued' });
    expect(await store().assignments.createIfAbsent({ ...input, prompt: 'twice' }, at(9))).toBeUndefined();
    expect(await store().assignments.get(id)).toMatchObject({ prompt: 'once' });
  });
});
