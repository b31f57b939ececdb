/**
 * The store's contract: every case runs against SQLite (a temp file) and PostgreSQL (a fresh
 * database on the local server, dropped afterwards), so both backends behave the same. The
 * repositories of collaboration and of access have their own files (`store-*.contract.test.ts`);
 * `store-coverage.test.ts` fails when a repository query has no case.
 *
 * One store is shared per backend; each case works in its own workspace and only asserts on rows
 * it created, so cases do not depend on one another.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { moveInternalFields } from '../src/store/migrations/move-internal-fields.ts';
import { openStore } from '../src/store/open.ts';
import { databaseOf, type ApprovalRow, type AssignmentRow, type Store } from '../src/store/store.ts';
import {
  approval,
  assign,
  at,
  backends,
  event,
  events,
  expectNumbers,
  HELD_STATES,
  hold,
  ids,
  only,
  seed,
  sortedIds,
  T,
  unique,
  type Provisioned,
  type Seed,
} from './store-fixtures.ts';

// ---- the contract ------------------------------------------------------------------------------

describe.each(backends)('store contract ($kind)', (backend) => {
  let provisioned: Provisioned;
  let store: Store;
  let s: Seed;

  beforeAll(async () => {
    provisioned = await backend.provision();
    store = await openStore(provisioned.location);
  });

  afterAll(async () => {
    try {
      await store?.close();
    } finally {
      await provisioned?.dispose();
    }
  });

  beforeEach(async () => {
    s = await seed(store);
  });

  describe('migrations', () => {
    const migrationNames = async () =>
      (
        await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
          databaseOf(store),
        )
      ).rows.map((r) => r.name);

    it('are run at open and create every table', async () => {
      expect(store.kind).toBe(backend.kind);
      expect(await migrationNames()).toEqual([
        '0001_foundation',
        '0002_audit',
        '0003_providers',
        '0004_collaboration',
        '0005_work',
        '0006_mailbox_indexes',
        '0007_memberships',
        '0008_devices',
        '0009_agent_templates',
        '0010_folders',
        '0011_offer_fencing',
        '0012_web_sessions',
        '0013_activity_internal',
        '0014_chains',
        '0014_chains_cause',
        '0017_dispatch_indexes',
        '0019_chain_stops',
        '0020_idempotency_keys',
        '0024_gateway_relay',
        '0025_hub_instances',
      ]);
      const tables = (await databaseOf(store).introspection.getTables()).map((t) => t.name);
      expect(tables).toEqual(
        expect.arrayContaining([
          'meta',
          'workspaces',
          'users',
          'agents',
          'tokens',
          'gateways',
          'gateway_agents',
          'assignments',
          'assignment_events',
          'audit',
          'approvals',
          'counters',
          'activity',
          'messages',
          'mailbox',
          'tasks',
          'context_entries',
          'context_chunks',
          'work',
          'devices',
          'device_grants',
          'folders',
          'web_sessions',
          'web_signin_codes',
          'gateway_relay',
          'hub_instances',
        ]),
      );
    });

    it('are a no-op when run again, by migrate() or by opening the database again', async () => {
      await store.meta.set('before-remigrate', 'kept');
      await store.migrate();
      const again = await openStore(provisioned.location);
      await again.close();
      expect(await migrationNames()).toEqual([
        '0001_foundation',
        '0002_audit',
        '0003_providers',
        '0004_collaboration',
        '0005_work',
        '0006_mailbox_indexes',
        '0007_memberships',
        '0008_devices',
        '0009_agent_templates',
        '0010_folders',
        '0011_offer_fencing',
        '0012_web_sessions',
        '0013_activity_internal',
        '0014_chains',
        '0014_chains_cause',
        '0017_dispatch_indexes',
        '0019_chain_stops',
        '0020_idempotency_keys',
        '0024_gateway_relay',
        '0025_hub_instances',
      ]);
      expect(await store.meta.get('before-remigrate')).toBe('kept');
      expect(await store.users.getWorkspace(s.ws.id)).toEqual(s.ws);
    });

    it('0013 moves the work dispatcher’s fields of entries written before it out of their data', async () => {
      const message = { id: unique('msg'), body: 'a \u0000 byte and ünïcode', mentions: [] };
      const task = { id: unique('tsk'), title: 'kept' };
      const entries = [
        { type: 'message.created', data: { message, hops: 2 } },
        { type: 'task.created', data: { task, changes: [], dispatch: true } },
        { type: 'task.updated', data: { task, changes: ['status'] } },
        { type: 'context.set', data: { entry: { key: 'k' }, replaced: false, hops: 'not ours' } },
      ];
      // Ids far past the counter's, in order.
      const base = 2_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
      const rows = entries.map((e, i) => ({
        id: base + i,
        workspace_id: s.ws.id,
        type: e.type,
        ts: T,
        actor_kind: null,
        actor_id: null,
        actor_name: null,
        subject: null,
        data: JSON.stringify(e.data),
        internal: null,
      }));
      await databaseOf(store).insertInto('activity').values(rows).execute();
      await moveInternalFields(databaseOf(store) as Kysely<unknown>);
      const after = await databaseOf(store)
        .selectFrom('activity')
        .select(['type', 'data', 'internal'])
        .where('workspace_id', '=', s.ws.id)
        .orderBy('id')
        .execute();
      expect(
        after.map((r) => ({
          type: r.type,
          data: JSON.parse(r.data) as unknown,
          internal: r.internal && (JSON.parse(r.internal) as unknown),
        })),
      ).toEqual([
        { type: 'message.created', data: { message }, internal: { hops: 2 } },
        { type: 'task.created', data: { task, changes: [] }, internal: { dispatch: true } },
        { type: 'task.updated', data: { task, changes: ['status'] }, internal: null },
        { type: 'context.set', data: entries[3]?.data, internal: null },
      ]);
      // Keys keep their order.
      expect(Object.keys(JSON.parse(after[1]?.data ?? '{}') as object)).toEqual(['task', 'changes']);
    });
  });

  it('meta: get of a missing key, set, overwrite', async () => {
    const key = unique('key');
    expect(await store.meta.get(key)).toBeUndefined();
    await store.meta.set(key, 'one');
    expect(await store.meta.get(key)).toBe('one');
    await store.meta.set(key, 'two');
    expect(await store.meta.get(key)).toBe('two');
  });

  it('workspaces and users: create and get back', async () => {
    expect(s.ws).toMatchObject({ created_at: T });
    expect(s.ws.id).toMatch(/^ws_/);
    expect(await store.users.getWorkspace(s.ws.id)).toEqual(s.ws);
    expect(await store.users.get(s.user.id)).toEqual({
      id: s.user.id,
      workspace_id: s.ws.id,
      handle: 'ada',
      role: 'owner',
      created_at: T,
      person_id: s.user.id, // a new person unless made as another membership of one
    });
    expect(await store.users.getWorkspace('ws_missing')).toBeUndefined();
    expect(await store.users.get('usr_missing')).toBeUndefined();
    await expect(store.users.createWorkspace(s.ws.name)).rejects.toThrow(/unique/i);
  });

  it('firstWorkspace is the earliest created', async () => {
    const first = await store.users.createWorkspace(unique('first'), 1);
    expect(await store.users.firstWorkspace()).toEqual(first);
  });

  describe('agents', () => {
    it('are found by id and by name within their workspace only', async () => {
      const { ws, agent } = s;
      expect(agent).toMatchObject({
        workspace_id: ws.id,
        name: 'claude',
        kind: 'claude-code',
        created_at: T,
      });
      expect(await store.agents.find(ws.id, agent.id)).toEqual(agent);
      expect(await store.agents.find(ws.id, 'claude')).toEqual(agent);
      expect(await store.agents.get(agent.id)).toEqual(agent);
      expect(await store.agents.find(ws.id, 'nobody')).toBeUndefined();

      const other = await seed(store); // also has an agent named 'claude'
      expect(await store.agents.find(other.ws.id, agent.id)).toBeUndefined();
      expect(await store.agents.find(other.ws.id, 'claude')).toEqual(other.agent);
      expect(await store.agents.find(ws.id, other.agent.id)).toBeUndefined();
    });

    it('rejects a duplicate name in one workspace (unique constraint)', async () => {
      await expect(store.agents.create(s.ws.id, 'claude', 'codex')).rejects.toThrow(/unique/i);
      expect(await store.agents.list(s.ws.id)).toEqual([s.agent]);
    });

    it('are listed by name', async () => {
      const codex = await store.agents.create(s.ws.id, 'codex', 'codex', T);
      const aider = await store.agents.create(s.ws.id, 'aider', 'aider', T);
      expect(await store.agents.list(s.ws.id)).toEqual([aider, s.agent, codex]);
    });
  });

  it('tokens: insert, get, touch', async () => {
    const token = {
      id: unique('tok'),
      kind: 'user',
      owner_id: s.user.id,
      workspace_id: s.ws.id,
      secret_hash: 'sha256:abc',
      created_at: T,
      expires_at: at(86_400_000),
      last_used_at: null,
      revoked_at: null,
      assignment_id: null,
    };
    await store.tokens.insert(token);
    expect(await store.tokens.get(token.id)).toEqual(token);
    await store.tokens.touch(token.id, at(5));
    expect(await store.tokens.get(token.id)).toEqual({ ...token, last_used_at: at(5) });
    expect(await store.tokens.get('tok_missing')).toBeUndefined();
  });

  describe('gateways', () => {
    it('are created disconnected, updated and listed by creation', async () => {
      const gw = await store.gateways.create(s.ws.id, 'laptop', 'laptop.local', at(1));
      expect(gw).toMatchObject({ connected: 0, version: null, last_seen_at: null, created_at: at(1) });
      expect(await store.gateways.get(gw.id)).toEqual(gw);

      // Connected: held by a living hub instance (store-hub-instances.contract.test.ts).
      await store.hubInstances.register('hubi_contract', at(0), at(60_000));
      await store.gateways.connect(gw.id, 'hubi_contract', { version: '0.1.0', last_seen_at: at(2) });
      const updated = {
        ...gw,
        connected: 1,
        version: '0.1.0',
        last_seen_at: at(2),
        hub_instance: 'hubi_contract',
      };
      expect(await store.gateways.get(gw.id, at(3))).toEqual(updated);

      const earlier = await store.gateways.create(s.ws.id, 'server', null, at(0));
      expect(await store.gateways.list(s.ws.id, at(3))).toEqual([earlier, updated]);
    });

    it('attach agents; attaching again changes the provider; joins both ways', async () => {
      const laptop = await store.gateways.create(s.ws.id, 'laptop', null, T);
      const server = await store.gateways.create(s.ws.id, 'server', null, T);
      const codex = await store.agents.create(s.ws.id, 'codex', 'codex', T);
      await store.hubInstances.register('hubi_contract_2', T, T + 60_000);
      await store.gateways.connect(server.id, 'hubi_contract_2');

      await store.gateways.attach(laptop.id, s.agent.id, 'anthropic');
      await store.gateways.attach(laptop.id, s.agent.id, 'bedrock'); // upsert
      await store.gateways.attach(laptop.id, codex.id, null);
      await store.gateways.attach(server.id, s.agent.id, 'anthropic');

      expect(await store.gateways.agentsOf([laptop.id])).toEqual([
        { gatewayId: laptop.id, id: s.agent.id, name: 'claude', provider: 'bedrock' },
        { gatewayId: laptop.id, id: codex.id, name: 'codex', provider: null },
      ]);
      expect(await store.gateways.ofAgents([s.agent.id], at(1))).toEqual([
        { agentId: s.agent.id, id: laptop.id, name: 'laptop', connected: 0 },
        { agentId: s.agent.id, id: server.id, name: 'server', connected: 1 },
      ]);
      expect(await store.gateways.ofAgents([codex.id], at(1))).toEqual([
        { agentId: codex.id, id: laptop.id, name: 'laptop', connected: 0 },
      ]);
      expect(await store.gateways.agentsOf([])).toEqual([]);
      expect(await store.gateways.ofAgents([])).toEqual([]);
    });
  });

  describe('assignments', () => {
    it('are created queued at attempt 1 and read back as created', async () => {
      const a = await assign(store, s, T);
      expect(a).toMatchObject({
        state: 'queued',
        attempt: 1,
        gateway_id: null,
        lease_expires_at: null,
        created_at: T,
        updated_at: T,
        started_at: null,
        finished_at: null,
      });
      expect(a.id).toMatch(/^asg_/);
      expect(await store.assignments.get(a.id)).toEqual(a);
      expect(await store.assignments.get('asg_missing')).toBeUndefined();
    });

    it('keep the resume fallback and result details', async () => {
      const a = await store.assignments.create({
        workspaceId: s.ws.id,
        agentId: s.agent.id,
        prompt: 'go on',
        sessionKey: 'main',
        mode: 'continue',
        resumeFallback: 'new',
        timeoutMs: 1000,
        retries: 0,
        createdBy: s.user.id,
      });
      expect(a).toMatchObject({ resume_fallback: 'new', result_details: null });
      const details = JSON.stringify({ branch: 'gantry/x', changedFiles: ['a.txt'] });
      await store.assignments.transition(a.id, ['queued'], { state: 'succeeded', result_details: details });
      expect(await store.assignments.get(a.id)).toMatchObject({
        resume_fallback: 'new',
        result_details: details,
      });
    });

    it('are listed newest first, by agent, by state, with a limit', async () => {
      const codex = await store.agents.create(s.ws.id, 'codex', 'codex', T);
      const a1 = await assign(store, s, at(1));
      const c2 = await assign(store, s, at(2), codex.id);
      const a3 = await assign(store, s, at(3));
      await hold(store, a3.id, 'offered', s.gwA, at(100));
      await assign(store, await seed(store), at(4)); // another workspace: not listed

      const list = async (filter?: Parameters<Store['assignments']['list']>[1]) =>
        ids(await store.assignments.list(s.ws.id, filter));
      expect(await list()).toEqual(ids([a3, c2, a1]));
      expect(await list({ agentId: s.agent.id })).toEqual(ids([a3, a1]));
      expect(await list({ agentId: codex.id })).toEqual(ids([c2]));
      expect(await list({ state: 'queued' })).toEqual(ids([c2, a1]));
      expect(await list({ state: 'offered' })).toEqual(ids([a3]));
      expect(await list({ limit: 2 })).toEqual(ids([a3, c2]));
      expect(await list({ agentId: s.agent.id, state: 'queued', limit: 5 })).toEqual(ids([a1]));
    });

    it('unfinished: every assignment not ended, oldest first, of the workspace or of some agents', async () => {
      const codex = await store.agents.create(s.ws.id, 'codex', 'codex', T);
      const a1 = await assign(store, s, at(1));
      const c2 = await assign(store, s, at(2), codex.id);
      const a3 = await assign(store, s, at(3));
      const done = await assign(store, s, at(4));
      await hold(store, a3.id, 'running', s.gwA, at(100));
      await store.assignments.transition(done.id, ['queued'], { state: 'succeeded' });
      await assign(store, await seed(store), at(5)); // another workspace: not listed

      expect(ids(await store.assignments.unfinished(s.ws.id))).toEqual(ids([a1, c2, a3]));
      expect(ids(await store.assignments.unfinished(s.ws.id, { agentIds: [s.agent.id] }))).toEqual(
        ids([a1, a3]),
      );
      expect(ids(await store.assignments.unfinished(s.ws.id, { agentIds: [codex.id, s.agent.id] }))).toEqual(
        ids([a1, c2, a3]),
      );
      expect(await store.assignments.unfinished(s.ws.id, { agentIds: [] })).toEqual([]);
      // A chain's: a root names its chain after itself.
      expect(ids(await store.assignments.unfinished(s.ws.id, { chainId: a3.id }))).toEqual(ids([a3]));
      expect(await store.assignments.unfinished(s.ws.id, { chainId: done.id })).toEqual([]);
    });
  });

  describe('transition (compare-and-set)', () => {
    it('applies only from the listed states', async () => {
      const a = await assign(store, s, T);
      const before = Date.now();
      expect(await store.assignments.transition(a.id, ['offered', 'running'], { state: 'failed' })).toBe(
        false,
      );
      expect(await store.assignments.get(a.id)).toEqual(a);

      expect(
        await store.assignments.transition(a.id, ['queued'], {
          state: 'offered',
          gateway_id: s.gwA,
          lease_expires_at: at(9),
        }),
      ).toBe(true);
      const row = await store.assignments.get(a.id);
      expect(row).toMatchObject({ state: 'offered', gateway_id: s.gwA, lease_expires_at: at(9) });
      expect(row?.updated_at).toBeGreaterThanOrEqual(before);

      expect(
        await store.assignments.transition(a.id, ['queued'], { state: 'offered', gateway_id: s.gwB }),
      ).toBe(false);
      expect((await store.assignments.get(a.id))?.gateway_id).toBe(s.gwA);
      expect(await store.assignments.transition('asg_missing', ['queued'], { state: 'offered' })).toBe(false);
    });

    it('respects the gatewayId and attempt guard', async () => {
      const a = await assign(store, s, T);
      await hold(store, a.id, 'offered', s.gwA, at(9));
      const start = { state: 'starting' } as const;
      expect(await store.assignments.transition(a.id, ['offered'], start, { gatewayId: s.gwB })).toBe(false);
      expect(await store.assignments.transition(a.id, ['offered'], start, { attempt: 2 })).toBe(false);
      expect(
        await store.assignments.transition(a.id, ['offered'], start, { gatewayId: s.gwA, attempt: 2 }),
      ).toBe(false);
      expect((await store.assignments.get(a.id))?.state).toBe('offered');

      expect(
        await store.assignments.transition(a.id, ['offered'], start, { gatewayId: s.gwA, attempt: 1 }),
      ).toBe(true);
      expect((await store.assignments.get(a.id))?.state).toBe('starting');
    });

    it('fences by offer id: an answer to an earlier offer of the same attempt changes nothing', async () => {
      const a = await assign(store, s, T);
      expect(a.offer_id).toBeNull();
      const offer = (offerId: string) =>
        store.assignments.transition(a.id, ['queued'], {
          state: 'offered',
          gateway_id: s.gwA,
          offer_id: offerId,
        });
      expect(await offer('off-1')).toBe(true);
      const requeue = { state: 'queued', gateway_id: null, offer_id: null } as const;
      expect(await store.assignments.transition(a.id, ['offered'], requeue, { offerId: 'off-1' })).toBe(true);
      expect(await offer('off-2')).toBe(true);

      const guard = { gatewayId: s.gwA, attempt: 1 };
      const start = { state: 'starting' } as const;
      expect(
        await store.assignments.transition(a.id, ['offered'], start, { ...guard, offerId: 'off-1' }),
      ).toBe(false);
      expect(await store.assignments.get(a.id)).toMatchObject({ state: 'offered', offer_id: 'off-2' });
      expect(
        await store.assignments.transition(a.id, ['offered'], start, { ...guard, offerId: 'off-2' }),
      ).toBe(true);
      expect(await store.assignments.get(a.id)).toMatchObject({ state: 'starting', offer_id: 'off-2' });
    });

    it('transitionRow returns the row as the change left it, and nothing when the guard fails', async () => {
      const a = await assign(store, s, T);
      await hold(store, a.id, 'offered', s.gwA, at(9));
      const start = { state: 'starting', started_at: at(10) } as const;
      expect(await store.assignments.transitionRow(a.id, ['offered'], start, { gatewayId: s.gwB })).toBe(
        undefined,
      );
      expect((await store.assignments.get(a.id))?.state).toBe('offered');
      const row = await store.assignments.transitionRow(a.id, ['offered'], start, { gatewayId: s.gwA });
      expect(row).toEqual(await store.assignments.get(a.id));
      expect(row).toMatchObject({ id: a.id, state: 'starting', started_at: at(10), gateway_id: s.gwA });
      expect(await store.assignments.transitionRow(a.id, ['offered'], start)).toBe(undefined);
    });

    it('lets exactly one of two racing transitions win', async () => {
      for (let round = 0; round < 5; round++) {
        const a = await assign(store, s, at(round));
        const offer = (gatewayId: string) =>
          store.assignments.transition(
            a.id,
            ['queued'],
            { state: 'offered', gateway_id: gatewayId },
            { attempt: 1 },
          );
        const results = await Promise.all([offer(s.gwA), offer(s.gwB)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results[0] ? s.gwA : s.gwB;
        expect(await store.assignments.get(a.id)).toMatchObject({ state: 'offered', gateway_id: winner });
      }
    });
  });

  describe('queues and leases', () => {
    it('queuedFor: oldest first, only the given agents, up to the limit', async () => {
      const codex = await store.agents.create(s.ws.id, 'codex', 'codex', T);
      const aider = await store.agents.create(s.ws.id, 'aider', 'aider', T);
      const claude3 = await assign(store, s, at(3));
      const codex1 = await assign(store, s, at(1), codex.id);
      await assign(store, s, at(0), aider.id); // not asked for
      const claude4 = await assign(store, s, at(4));
      const offered = await assign(store, s, at(2));
      await hold(store, offered.id, 'offered', s.gwA, at(100)); // not queued any more

      const agents = [s.agent.id, codex.id];
      expect(ids(await store.assignments.queuedFor(agents, 10))).toEqual(ids([codex1, claude3, claude4]));
      expect(ids(await store.assignments.queuedFor(agents, 2))).toEqual(ids([codex1, claude3]));
      expect(await store.assignments.queuedFor([], 10)).toEqual([]);
      expect(await store.assignments.queuedFor(agents, 0)).toEqual([]);
    });

    it("queuedFor and queuedBefore pass over a paused agent's work; waiting counts from updated_at", async () => {
      const sleepy = await store.agents.create(s.ws.id, 'sleepy', 'managed', T);
      const held = await assign(store, s, at(1), sleepy.id);
      const mine = await assign(store, s, at(2));
      const pause = (paused: number) => store.agents.setPaused(sleepy.id, paused === 1);
      // queuedBefore looks at every workspace: only this test's rows count here.
      const expiring = async (before: number) =>
        ids(await store.assignments.queuedBefore(before, 1_000_000)).filter(
          (id) => id === held.id || id === mine.id,
        );

      await pause(1);
      expect(ids(await store.assignments.queuedFor([s.agent.id, sleepy.id], 10))).toEqual(ids([mine]));
      expect(await expiring(at(10))).toEqual(ids([mine]));
      await pause(0);
      expect(ids(await store.assignments.queuedFor([s.agent.id, sleepy.id], 10))).toEqual(ids([held, mine]));
      // Queued again later (requeued, or its agent resumed): its wait starts over.
      await databaseOf(store)
        .updateTable('assignments')
        .set({ updated_at: at(20) })
        .where('id', '=', held.id)
        .execute();
      expect(await expiring(at(10))).toEqual(ids([mine]));
      expect(await expiring(at(30))).toEqual(ids([held, mine]));
    });

    it('heldBy: the offered, starting, running and cancelling assignments of one gateway', async () => {
      const held = [];
      for (const state of HELD_STATES) {
        const a = await assign(store, s, T);
        await hold(store, a.id, state, s.gwA, at(100));
        held.push(a);
      }
      const done = await assign(store, s, T);
      await hold(store, done.id, 'succeeded', s.gwA, at(100));
      const elsewhere = await assign(store, s, T);
      await hold(store, elsewhere.id, 'running', s.gwB, at(100));
      await assign(store, s, T); // queued

      expect(ids(await store.assignments.heldBy(s.gwA)).sort()).toEqual(sortedIds(...held));
      expect(ids(await store.assignments.heldBy(s.gwB))).toEqual(ids([elsewhere]));
    });

    it('leaseExpired: held assignments whose lease ends before the given time', async () => {
      const early = await assign(store, s, T);
      const late = await assign(store, s, T);
      const finished = await assign(store, s, T);
      const queued = await assign(store, s, T);
      await hold(store, early.id, 'running', s.gwA, at(100));
      await hold(store, late.id, 'offered', s.gwA, at(200));
      await hold(store, finished.id, 'failed', s.gwA, at(50));
      const mine = [early, late, finished, queued];

      expect(only(await store.assignments.leaseExpired(at(150)), mine)).toEqual(sortedIds(early));
      expect(only(await store.assignments.leaseExpired(at(100)), mine)).toEqual([]); // strictly before
      expect(only(await store.assignments.leaseExpired(at(201)), mine)).toEqual(sortedIds(early, late));
    });

    it('renewLeases extends the held assignments of one gateway; refreshAllLeases of every gateway', async () => {
      const mineHeld = await assign(store, s, T);
      const mineDone = await assign(store, s, T);
      const otherHeld = await assign(store, s, T);
      const queued = await assign(store, s, T);
      await hold(store, mineHeld.id, 'running', s.gwA, at(100));
      await hold(store, mineDone.id, 'succeeded', s.gwA, at(100));
      await hold(store, otherHeld.id, 'starting', s.gwB, at(100));

      const lease = async (a: AssignmentRow) => (await store.assignments.get(a.id))?.lease_expires_at;
      const leases = () => Promise.all([mineHeld, mineDone, otherHeld, queued].map(lease));

      await store.assignments.renewLeases([s.gwA], at(500));
      expect(await leases()).toEqual([at(500), at(100), at(100), null]);

      await store.assignments.refreshAllLeases(at(900));
      expect(await leases()).toEqual([at(900), at(100), at(900), null]);
    });
  });

  describe('approvals', () => {
    let a: AssignmentRow;
    beforeEach(async () => {
      a = await assign(store, s, T);
    });

    it('are stored once per request (assignment, attempt, request id): a replay keeps the first', async () => {
      const first = approval(a, 'req-1', at(1));
      await store.approvals.insert(first);
      await store.approvals.insert({ ...approval(a, 'req-1', at(2)), input: 'replayed' });
      expect(await store.approvals.get(first.id)).toEqual(first);
      expect(await store.approvals.find(a.id, 1, 'req-1')).toEqual(first);
      expect(await store.approvals.find(a.id, 2, 'req-1')).toBeUndefined();
      expect(await store.approvals.get('apv_missing')).toBeUndefined();

      const nextAttempt = approval(a, 'req-1', at(3), 2);
      await store.approvals.insert(nextAttempt);
      expect(await store.approvals.find(a.id, 2, 'req-1')).toEqual(nextAttempt);
    });

    it('are listed newest first, by status, with a limit, within their workspace', async () => {
      const older = approval(a, 'old', at(1));
      const newer = approval(a, 'new', at(2));
      const denied = { ...approval(a, 'denied', at(3)), status: 'denied' };
      for (const row of [older, newer, denied]) await store.approvals.insert(row);
      const other = await seed(store);
      await store.approvals.insert(approval(await assign(store, other, T), 'theirs', at(4)));

      expect(ids(await store.approvals.list(s.ws.id))).toEqual(ids([denied, newer, older]));
      expect(ids(await store.approvals.list(s.ws.id, { status: 'pending' }))).toEqual(ids([newer, older]));
      expect(ids(await store.approvals.list(s.ws.id, { limit: 1 }))).toEqual(ids([denied]));
    });

    it('listOfPerson keeps the approvals of runs in chains one person started', async () => {
      const input = {
        workspaceId: s.ws.id,
        agentId: s.agent.id,
        prompt: 'go on',
        sessionKey: 'main',
        mode: 'new',
        resumeFallback: 'fail',
        timeoutMs: 1000,
        retries: 0,
      };
      const chain = (id: string, person: string | null) =>
        store.chains.ensure({
          id,
          workspace_id: s.ws.id,
          root_kind: 'message',
          person_id: person,
          person_name: person,
          max_depth: null,
          max_runs: null,
          created_at: T,
          updated_at: T,
        });
      const mine = unique('msg');
      const theirs = unique('msg');
      await chain(mine, 'usr_me');
      await chain(theirs, 'usr_other');
      // Created by an agent deep in my chain: mine. Created "by me" in another's chain: not mine.
      const deep = await store.assignments.create(
        { ...input, chainId: mine, createdBy: 'agent:x', depth: 3 },
        T,
      );
      const other = await store.assignments.create(
        { ...input, chainId: theirs, createdBy: 'user:usr_me' },
        T,
      );
      // A run without a recorded chain falls back to who created it.
      const legacy = await store.assignments.create({ ...input, createdBy: 'user:usr_me' }, T);
      const older = approval(deep, 'mine-old', at(1));
      const newer = { ...approval(legacy, 'mine-new', at(2)), status: 'approved' };
      for (const row of [older, newer, approval(other, 'theirs', at(3))]) await store.approvals.insert(row);

      expect(ids(await store.approvals.listOfPerson(s.ws.id, 'usr_me'))).toEqual(ids([newer, older]));
      const pending = await store.approvals.listOfPerson(s.ws.id, 'usr_me', { status: 'pending' });
      expect(ids(pending)).toEqual(ids([older]));
      expect(ids(await store.approvals.listOfPerson(s.ws.id, 'usr_me', { limit: 1 }))).toEqual(ids([newer]));
      expect(await store.approvals.listOfPerson('ws_other', 'usr_me')).toEqual([]);
    });

    it('updateApproval is a compare-and-set on the status', async () => {
      const row = approval(a, 'cas', at(1));
      await store.approvals.insert(row);
      const decide = { status: 'approved', decided_at: at(2), decided_by: s.user.id };
      expect(await store.approvals.update(row.id, ['pending'], decide)).toBe(true);
      expect(await store.approvals.update(row.id, ['pending'], { ...decide, status: 'denied' })).toBe(false);
      expect(await store.approvals.update(row.id, ['approved'], { answered: 1 })).toBe(true);
      expect(await store.approvals.get(row.id)).toEqual({ ...row, ...decide, answered: 1 });
    });

    it('expireApprovals ends the pending approvals of one attempt only', async () => {
      const pending = approval(a, 'p', at(1));
      const approved = { ...approval(a, 'a', at(1)), status: 'approved' };
      const otherAttempt = approval(a, 'p', at(1), 2);
      for (const row of [pending, approved, otherAttempt]) await store.approvals.insert(row);

      expect(await store.approvals.expire(a.id, 1, at(5))).toBe(1);
      expect(await store.approvals.get(pending.id)).toMatchObject({ status: 'expired', decided_at: at(5) });
      expect((await store.approvals.get(approved.id))?.status).toBe('approved');
      expect((await store.approvals.get(otherAttempt.id))?.status).toBe('pending');
    });

    it('unansweredDecisions: decided, unconfirmed approvals of the attempts a gateway holds', async () => {
      await hold(store, a.id, 'running', s.gwA, at(100));
      const decided = (requestId: string, patch: Partial<ApprovalRow> = {}) => ({
        ...approval(a, requestId, at(1)),
        status: 'approved',
        ...patch,
      });
      const wanted = decided('wanted');
      const denied = decided('denied', { status: 'denied' });
      const answered = decided('answered', { answered: 1 });
      const pending = decided('pending', { status: 'pending' });
      const oldAttempt = decided('old', { attempt: 0 });
      for (const row of [wanted, denied, answered, pending, oldAttempt]) await store.approvals.insert(row);
      const done = await assign(store, s, T);
      await hold(store, done.id, 'succeeded', s.gwA, at(100));
      await store.approvals.insert({ ...approval(done, 'done', at(1)), status: 'approved' });

      expect(ids(await store.approvals.unanswered(s.gwA)).sort()).toEqual(ids([wanted, denied]).sort());
      expect(await store.approvals.unanswered(s.gwB)).toEqual([]);
      expectNumbers((await store.approvals.unanswered(s.gwA))[0], ['attempt', 'created_at', 'answered']);
    });
  });

  describe('events', () => {
    let a: AssignmentRow;
    beforeEach(async () => {
      a = await assign(store, s, T);
    });

    const stored = async (attempt = 1) =>
      (await store.events.list(a.id)).filter((e) => e.attempt === attempt).map((e) => [e.seq, e.data]);

    it('are stored by (assignment, attempt, seq); the highest contiguous seq is returned', async () => {
      expect(await store.events.append(a.id, 1, events(1, 2, 3))).toBe(3);
      expect(await store.events.list(a.id)).toEqual(
        events(1, 2, 3).map((e) => ({ ...e, assignment_id: a.id, attempt: 1 })),
      );
      expect(await store.events.append(a.id, 1, [])).toBe(3);
    });

    it('are read after a cursor, in (attempt, seq) order, up to a limit', async () => {
      await store.events.append(a.id, 1, events(1, 2, 3));
      await store.events.append(a.id, 2, events(1, 2));
      const rows = (attempt: number, seqs: number[]) =>
        events(...seqs).map((e) => ({ ...e, assignment_id: a.id, attempt }));
      expect(await store.events.list(a.id, { attempt: 1, seq: 1 }, 10)).toEqual([
        ...rows(1, [2, 3]),
        ...rows(2, [1, 2]),
      ]);
      expect(await store.events.list(a.id, { attempt: 1, seq: 2 }, 2)).toEqual([
        ...rows(1, [3]),
        ...rows(2, [1]),
      ]);
      expect(await store.events.list(a.id, { attempt: 2, seq: 2 }, 10)).toEqual([]);
    });

    it('re-appending stored seqs changes nothing: the first write is kept', async () => {
      await store.events.append(a.id, 1, events(1, 2));
      const first = await stored();
      expect(await store.events.append(a.id, 1, [event(1, 'replayed'), event(2, 'replayed')])).toBe(2);
      expect(await stored()).toEqual(first);
      expect(await store.events.append(a.id, 1, [event(2, 'replayed'), event(3)])).toBe(3);
      expect(await stored()).toEqual([...first, [3, JSON.stringify('event 3')]]);
    });

    it('a batch of any size is stored whole and in order; seqs stored before keep their first write', async () => {
      // 234 rows, some already there: written in statements of several sizes, every row counts once.
      await store.events.append(
        a.id,
        1,
        [95, 100, 101, 230].map((seq) => event(seq, 'first')),
      );
      const batch = Array.from({ length: 234 }, (_, i) => event(i + 1, 'second'));
      expect(await store.events.append(a.id, 1, batch)).toBe(234);
      const rows = await store.events.list(a.id);
      expect(rows.map((r) => r.seq)).toEqual(batch.map((e) => e.seq));
      const kept = rows.filter((r) => r.data === JSON.stringify('first')).map((r) => r.seq);
      expect(kept).toEqual([95, 100, 101, 230]);
    });

    it('a large batch stores every row exactly, whatever its text holds, a seq repeated in it once', async () => {
      const odd = [
        'quote " and \\ backslash',
        '{braces, commas}',
        'NULL',
        '',
        'ünïcödé ✓ 😀',
        "it's\nmultiline",
      ];
      const batch = Array.from({ length: 1000 }, (_, i) => event(i + 1, odd[i % odd.length] ?? ''));
      expect(await store.events.append(a.id, 1, [...batch, event(5, 'again')])).toBe(1000);
      const rows = await store.events.list(a.id);
      expect(rows.map((r) => [r.seq, r.type, r.ts, r.data])).toEqual(
        batch.map((e) => [e.seq, e.type, e.ts, e.data]),
      );
    });

    it('an out-of-order batch counts only up to the gap, until the gap is filled', async () => {
      expect(await store.events.append(a.id, 1, events(1, 2, 4))).toBe(2);
      expect(await store.events.contiguousSeq(a.id, 1)).toBe(2);
      expect(await store.events.append(a.id, 1, events(3))).toBe(4);
      expect(await store.events.append(a.id, 1, events(6, 7))).toBe(4);
      expect(await store.events.append(a.id, 1, events(5))).toBe(7);
    });

    it('contiguousSeq is 0 with no events and with seq 1 missing', async () => {
      expect(await store.events.contiguousSeq(a.id, 1)).toBe(0);
      expect(await store.events.append(a.id, 2, events(2, 3))).toBe(0);
      expect(await store.events.contiguousSeq(a.id, 2)).toBe(0);
      expect(await store.events.append(a.id, 3, events(3))).toBe(0);
    });

    it('each attempt counts its own seqs', async () => {
      await store.events.append(a.id, 1, events(1, 2, 3));
      expect(await store.events.append(a.id, 2, events(1))).toBe(1);
      expect(await store.events.contiguousSeq(a.id, 1)).toBe(3);
    });

    it('are listed by attempt then seq, after a cursor that spans attempts', async () => {
      await store.events.append(a.id, 2, events(2, 1)); // the later attempt first, out of order
      await store.events.append(a.id, 1, events(3, 1, 2));
      const other = await assign(store, s, T);
      await store.events.append(other.id, 1, events(1));

      const positions = async (after?: { attempt: number; seq: number }, limit?: number) =>
        (await store.events.list(a.id, after, limit)).map((e) => [e.attempt, e.seq]);
      expect(await positions()).toEqual([
        [1, 1],
        [1, 2],
        [1, 3],
        [2, 1],
        [2, 2],
      ]);
      expect(await positions({ attempt: 1, seq: 2 })).toEqual([
        [1, 3],
        [2, 1],
        [2, 2],
      ]);
      expect(await positions({ attempt: 1, seq: 3 })).toEqual([
        [2, 1],
        [2, 2],
      ]);
      expect(await positions({ attempt: 2, seq: 2 })).toEqual([]);
      expect(await positions(undefined, 2)).toEqual([
        [1, 1],
        [1, 2],
      ]);
      expect(await positions({ attempt: 1, seq: 3 }, 1)).toEqual([[2, 1]]);
    });
  });

  it('numbers come back as JS numbers (PostgreSQL bigint is not a string)', async () => {
    const gw = await store.gateways.create(s.ws.id, 'laptop', null, T);
    await store.gateways.update(gw.id, { connected: 1, last_seen_at: at(1) });
    const a = await assign(store, s, T);
    await store.assignments.transition(a.id, ['queued'], {
      state: 'running',
      gateway_id: gw.id,
      lease_expires_at: at(2),
      started_at: at(3),
      result_exit_code: 0,
    });
    await store.events.append(a.id, 1, events(1));
    const token = {
      id: unique('tok'),
      kind: 'user',
      owner_id: s.user.id,
      workspace_id: s.ws.id,
      secret_hash: 'h',
      created_at: T,
      expires_at: at(1),
      last_used_at: at(2),
      revoked_at: at(3),
      assignment_id: null,
    };
    await store.tokens.insert(token);

    expectNumbers(await store.users.getWorkspace(s.ws.id), ['created_at']);
    expectNumbers(await store.users.get(s.user.id), ['created_at']);
    expectNumbers(await store.agents.get(s.agent.id), ['created_at']);
    expectNumbers(await store.tokens.get(token.id), [
      'created_at',
      'expires_at',
      'last_used_at',
      'revoked_at',
    ]);
    expectNumbers(await store.gateways.get(gw.id), ['connected', 'last_seen_at', 'created_at']);
    const assignmentNumbers = [
      'timeout_ms',
      'retries',
      'attempt',
      'lease_expires_at',
      'created_at',
      'updated_at',
      'started_at',
      'result_exit_code',
    ] as const;
    expectNumbers(await store.assignments.get(a.id), [...assignmentNumbers]);
    expectNumbers((await store.assignments.list(s.ws.id))[0], [...assignmentNumbers]);
    expectNumbers((await store.assignments.heldBy(gw.id))[0], [...assignmentNumbers]);
    expectNumbers((await store.events.list(a.id))[0], ['attempt', 'seq']);
    await store.gateways.attach(gw.id, s.agent.id, null, T);
    expectNumbers((await store.gateways.ofAgents([s.agent.id]))[0], ['connected']);
    expect(typeof (await store.events.contiguousSeq(a.id, 1))).toBe('number');
    expect(await store.assignments.get(a.id)).toMatchObject({ created_at: T, lease_expires_at: at(2) });
  });
});
