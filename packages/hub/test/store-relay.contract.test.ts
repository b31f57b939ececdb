/**
 * The store contract for relayed gateway frames (issue 15), on SQLite and PostgreSQL alike: a row
 * is taken once, by exactly one of several racing takers; an expired row is never taken nor listed
 * and the next write drops it; the catch-up read lists what waits, oldest first.
 */
import { expect, it } from 'vitest';
import type { Store } from '../src/store/store.ts';
import { at, describeContract, expectNumbers, unique } from './store-fixtures.ts';

describeContract('store contract: gateway relay', (c) => {
  const store = (): Store => c.store;
  const row = (gateway: string, offset: number, ttl = 10) => ({
    id: unique('rel'),
    gateway_id: gateway,
    frame: `sealed ${offset}`,
    created_at: at(offset),
    expires_at: at(offset + ttl),
  });
  const mine = (rows: { id: string }[], of: { id: string }[]) =>
    rows.filter((r) => of.some((o) => o.id === r.id)).map((r) => r.id);

  it('gateway relay: put rows wait, oldest first, and are taken once', async () => {
    const gw = unique('gw');
    const first = row(gw, 0);
    const second = row(gw, 1);
    await store().gatewayRelay.put(second);
    await store().gatewayRelay.put(first);
    const waiting = await store().gatewayRelay.waiting(at(2));
    expect(mine(waiting, [first, second])).toEqual([first.id, second.id]);
    expect(waiting.find((r) => r.id === first.id)).toEqual({ id: first.id, gateway_id: gw });

    const taken = await store().gatewayRelay.take(first.id, at(2));
    expect(taken).toEqual(first);
    expectNumbers(taken, ['created_at', 'expires_at']);
    expect(await store().gatewayRelay.take(first.id, at(2))).toBeUndefined();
    expect(mine(await store().gatewayRelay.waiting(at(2)), [first, second])).toEqual([second.id]);
  });

  it('gateway relay: of ten racing takes of one row exactly one gets it', async () => {
    const r = row(unique('gw'), 0);
    await store().gatewayRelay.put(r);
    const takes = await Promise.all(Array.from({ length: 10 }, () => store().gatewayRelay.take(r.id, at(1))));
    expect(takes.filter((t) => t !== undefined)).toEqual([r]);
  });

  it('gateway relay: an expired row is neither listed nor taken, and the next put drops it', async () => {
    const gw = unique('gw');
    const old = row(gw, 0, 5);
    await store().gatewayRelay.put(old);
    expect(mine(await store().gatewayRelay.waiting(at(5)), [old])).toEqual([]);
    expect(await store().gatewayRelay.take(old.id, at(5))).toBeUndefined();
    // Still there (a clock behind could take it) until a write at or past its expiry drops it.
    expect(mine(await store().gatewayRelay.waiting(at(4)), [old])).toEqual([old.id]);
    const next = row(gw, 6);
    await store().gatewayRelay.put(next);
    expect(mine(await store().gatewayRelay.waiting(at(0)), [old, next])).toEqual([next.id]);
  });
});
