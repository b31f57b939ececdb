/**
 * The store contract for chains (issue 12), on SQLite and PostgreSQL alike: a chain's root and
 * limits, its runs, run tokens revoked with their assignment, and the triggers its limits stopped.
 */
import { expect, it } from 'vitest';
import type { Store, TokenRow } from '../src/store/store.ts';
import { assign, at, describeContract, ids, unique } from './store-fixtures.ts';

describeContract('store contract: chains', (c) => {
  const store = (): Store => c.store;

  it('chains: recorded once (the first root wins), read, limits set; their runs counted and listed', async () => {
    const { s } = c;
    const id = unique('msg');
    const root = {
      id,
      workspace_id: s.ws.id,
      root_kind: 'message',
      person_id: s.user.id,
      person_name: 'ada',
      max_depth: null,
      max_runs: 40,
      created_at: at(0),
      updated_at: at(0),
      stopped_at: null,
      stopped_limit: null,
      stopped_agent_id: null,
    };
    expect(await store().chains.ensure(root)).toEqual(root);
    expect(await store().chains.ensure({ ...root, person_id: null, max_runs: 2, created_at: at(5) })).toEqual(
      root,
    );
    expect(await store().chains.get(id)).toEqual(root);
    expect(await store().chains.get(unique('none'))).toBeUndefined();
    await store().chains.setLimits(id, { max_depth: 9 }, at(10));
    expect(await store().chains.get(id)).toEqual({ ...root, max_depth: 9, updated_at: at(10) });

    expect(await store().chains.runs(id)).toBe(0);
    expect(await store().chains.tally(id)).toEqual({ runs: 0, depth: 0, active: 0 });
    const a = await assign(store(), s, at(1));
    const inChain = await store().assignments.create(
      { ...newRun(s.ws.id, s.agent.id), chainId: a.id, depth: 2 },
      at(2),
    );
    expect(inChain).toMatchObject({ chain_id: a.id, depth: 2 });
    expect(a).toMatchObject({ chain_id: a.id, depth: 1 });
    expect(await store().chains.runs(a.id)).toBe(2);
    expect(await store().chains.tally(a.id)).toEqual({ runs: 2, depth: 2, active: 2 });
    await store().assignments.transition(inChain.id, ['queued'], { state: 'succeeded' });
    expect(await store().chains.tally(a.id)).toEqual({ runs: 2, depth: 2, active: 1 });
    expect(ids(await store().chains.assignments(a.id))).toEqual([a.id, inChain.id]);
    expect(ids(await store().assignments.list(s.ws.id, { chainId: a.id }))).toEqual([inChain.id, a.id]);
  });

  it('chains: stopped from the first stop until they go on; listed per workspace and person', async () => {
    const { s } = c;
    const chain = (n: number, person: string | null) => ({
      id: unique('chain'),
      workspace_id: s.ws.id,
      root_kind: 'assignment',
      person_id: person,
      person_name: person ? 'ada' : null,
      max_depth: null,
      max_runs: null,
      created_at: at(n),
      updated_at: at(n),
    });
    const [a, b, c3] = [chain(1, s.user.id), chain(2, null), chain(3, s.user.id)];
    for (const row of [a, b, c3]) await store().chains.ensure(row);
    expect(ids(await store().chains.list(s.ws.id))).toEqual([c3.id, b.id, a.id]);
    expect(ids(await store().chains.list(s.ws.id, { limit: 2 }))).toEqual([c3.id, b.id]);
    expect(ids(await store().chains.list(s.ws.id, { personId: s.user.id }))).toEqual([c3.id, a.id]);
    expect(await store().chains.list(s.ws.id, { stopped: true })).toEqual([]);

    // c3 stops first; a later stop keeps when it first stopped and says the latest limit.
    await store().chains.stop(c3.id, { limit: 'runs', agentId: s.agent.id }, at(10));
    await store().chains.stop(b.id, { limit: 'depth', agentId: s.agent.id }, at(11));
    await store().chains.stop(c3.id, { limit: 'depth', agentId: 'agt-other' }, at(12));
    expect(await store().chains.get(c3.id)).toMatchObject({
      stopped_at: at(10),
      stopped_limit: 'depth',
      stopped_agent_id: 'agt-other',
      updated_at: at(12),
    });
    expect(ids(await store().chains.list(s.ws.id, { stopped: true }))).toEqual([c3.id, b.id]);
    expect(ids(await store().chains.list(s.ws.id, { stopped: true, personId: s.user.id }))).toEqual([c3.id]);
    expect(await store().chains.list(unique('ws'), { stopped: true })).toEqual([]);

    expect(await store().chains.unstop(c3.id, at(20))).toBe(true);
    expect(await store().chains.unstop(c3.id, at(21))).toBe(false);
    expect(await store().chains.get(c3.id)).toMatchObject({
      stopped_at: null,
      stopped_limit: null,
      stopped_agent_id: null,
      updated_at: at(20),
    });
    expect(ids(await store().chains.list(s.ws.id, { stopped: true }))).toEqual([b.id]);
  });

  it('tokens: a run token is revoked with its assignment, and is never listed', async () => {
    const { s } = c;
    const a = await assign(store(), s, at(1));
    const run: TokenRow = {
      id: unique('tok'),
      kind: 'run',
      owner_id: s.agent.id,
      workspace_id: s.ws.id,
      secret_hash: 'h',
      created_at: at(1),
      expires_at: at(100),
      last_used_at: null,
      revoked_at: null,
      assignment_id: a.id,
    };
    await store().tokens.insert(run);
    expect(ids(await store().tokens.list(s.ws.id))).not.toContain(run.id);
    expect(await store().tokens.revokeRun(a.id, at(5))).toEqual([run.id]);
    expect(await store().tokens.revokeRun(a.id, at(6))).toEqual([]);
    expect((await store().tokens.get(run.id))?.revoked_at).toBe(at(5));
  });

  it('work: the triggers a chain stopped, oldest first, each released once; one run per (message, agent)', async () => {
    const { s } = c;
    const chainId = unique('chain');
    const base = Math.floor(Math.random() * 1e9);
    const second = stoppedWork(s, base + 2, chainId);
    const first = stoppedWork(s, base + 1, chainId);
    for (const row of [second, first]) expect(await store().work.claim(row)).toBe(true);
    const other = stoppedWork(s, base + 3, unique('chain'));
    await store().work.claim(other);
    expect((await store().work.stopped(chainId)).map((w) => Number(w.trigger_id))).toEqual([
      base + 1,
      base + 2,
    ]);
    // The same message asks the same agent again through another entry: nothing new.
    expect(await store().work.claim({ ...first, trigger_id: base + 9 })).toBe(false);
    const key = { trigger: base + 1, agentId: s.agent.id };
    expect(await store().work.release(key)).toBe(true);
    expect(await store().work.release(key)).toBe(false);
    expect((await store().work.stopped(chainId)).map((w) => Number(w.trigger_id))).toEqual([base + 2]);
  });

  it('activity: one entry by id', async () => {
    const { s } = c;
    const row = await store().activity.insert({
      workspace_id: s.ws.id,
      type: 'chain.continued',
      ts: at(1),
      actor_kind: null,
      actor_id: null,
      actor_name: null,
      subject: 'x',
      data: '{}',
      internal: null,
    });
    expect(await store().activity.get(row.id)).toEqual(row);
    expect(await store().activity.get(row.id + 1_000_000)).toBeUndefined();
  });
});

function stoppedWork(s: { ws: { id: string }; agent: { id: string } }, trigger: number, chainId: string) {
  return {
    trigger_id: trigger,
    agent_id: s.agent.id,
    workspace_id: s.ws.id,
    message_id: unique('msg'),
    thread_id: null,
    task_id: null,
    session_key: '',
    assignment_id: null,
    state: 'chain_limit',
    reply_id: null,
    created_at: at(trigger),
    updated_at: at(trigger),
    chain_id: chainId,
    depth: 7,
  };
}

function newRun(workspaceId: string, agentId: string) {
  return {
    workspaceId,
    agentId,
    prompt: 'go on',
    sessionKey: 'main',
    mode: 'new',
    resumeFallback: 'fail',
    timeoutMs: 60_000,
    retries: 0,
    createdBy: 'agent:x',
  };
}
