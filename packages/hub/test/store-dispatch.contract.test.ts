/**
 * The store contract for dispatch at scale (issue 15), on SQLite and PostgreSQL alike: the
 * dispatcher's catch-up read of the agents with queued work, the batched re-check of open
 * connections' tokens, batched lease renewals, and the indexes of migration 0017.
 */
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { databaseOf } from '../src/store/store.ts';
import { assign, at, describeContract, hold, T, unique } from './store-fixtures.ts';

describeContract('store contract, dispatch', (c) => {
  it("queuedAgents: each agent with queued work once, not a paused agent's, not held work", async () => {
    const { store, s } = c;
    const busy = await store.agents.create(s.ws.id, 'busy', 'managed', T);
    const paused = await store.agents.create(s.ws.id, 'paused', 'managed', T);
    const held = await store.agents.create(s.ws.id, 'held', 'managed', T);
    await assign(store, s, at(1), busy.id);
    await assign(store, s, at(2), busy.id);
    await assign(store, s, at(3), paused.id);
    await store.agents.setPaused(paused.id, true);
    const running = await assign(store, s, at(4), held.id);
    await hold(store, running.id, 'running', s.gwA, at(100));
    // Other cases' agents may have queued work too: only this case's agents count here.
    const mine = (await store.assignments.queuedAgents()).filter((id) =>
      [busy.id, paused.id, held.id].includes(id),
    );
    expect(mine).toEqual([busy.id]);
    await store.agents.setPaused(paused.id, false);
    const again = (await store.assignments.queuedAgents()).filter((id) =>
      [busy.id, paused.id, held.id].includes(id),
    );
    expect(again.sort()).toEqual([busy.id, paused.id].sort());
  });

  it('tokens.states: revoked and expiry of many tokens at once, in batches, unknown ids left out', async () => {
    const { store, s } = c;
    const ids: string[] = [];
    for (let i = 0; i < 1200; i++) ids.push(unique('tok'));
    for (const [i, id] of ids.entries()) {
      if (i % 100 !== 0) continue; // a few stored, spread over the batches of 500
      await store.tokens.insert({
        id,
        kind: 'gateway',
        owner_id: s.gwA,
        workspace_id: s.ws.id,
        secret_hash: `sha256:${id}`,
        created_at: T,
        expires_at: i === 500 ? at(9) : null,
        last_used_at: null,
        revoked_at: null,
        assignment_id: null,
      });
    }
    await store.tokens.revoke([ids[1000] ?? ''], at(5));
    const states = await store.tokens.states(ids);
    expect(states.map((r) => r.id).sort()).toEqual(ids.filter((_, i) => i % 100 === 0).sort());
    const byId = new Map(states.map((r) => [r.id, r]));
    expect(byId.get(ids[500] ?? '')).toEqual({ id: ids[500], revoked_at: null, expires_at: at(9) });
    expect(byId.get(ids[1000] ?? '')).toEqual({ id: ids[1000], revoked_at: at(5), expires_at: null });
    expect(await store.tokens.states([])).toEqual([]);
  });

  it("renewLeases and gateways.seen: many gateways' leases and last-seen at once, over batches of 500", async () => {
    const { store, s } = c;
    const held = await assign(store, s, T);
    const other = await assign(store, s, T);
    await hold(store, held.id, 'running', s.gwA, at(100));
    await hold(store, other.id, 'running', s.gwB, at(100));
    const many = [...Array.from({ length: 700 }, (_, i) => `gw_none_${i}`), s.gwA];
    await store.assignments.renewLeases(many, at(500));
    expect((await store.assignments.get(held.id))?.lease_expires_at).toBe(at(500));
    expect((await store.assignments.get(other.id))?.lease_expires_at).toBe(at(100));
    const a = await store.gateways.create(s.ws.id, unique('gw'), null, T);
    const b = await store.gateways.create(s.ws.id, unique('gw'), null, T);
    await store.gateways.seen([...many, a.id], at(7));
    expect((await store.gateways.get(a.id))?.last_seen_at).toBe(at(7));
    expect((await store.gateways.get(b.id))?.last_seen_at).not.toBe(at(7));
    await store.gateways.seen([], at(9));
  });

  it('0017 indexes the queue: assignments by gateway and state, agents by paused', async () => {
    const db = databaseOf(c.store);
    const names =
      c.backend.kind === 'sqlite'
        ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(db)).rows
        : (await sql<{ name: string }>`select indexname as name from pg_indexes`.execute(db)).rows;
    expect(names.map((r) => r.name)).toEqual(
      expect.arrayContaining(['assignments_gateway_state', 'agents_paused']),
    );
  });
});
