/**
 * The store's contract: every case runs against SQLite (a temp file) and PostgreSQL (a fresh
 * database on the local server, dropped afterwards), so both backends behave the same.
 *
 * One store is shared per backend; each case works in its own workspace and only asserts on rows
 * it created, so cases do not depend on one another.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AssignmentState } from '@gantry/protocol';
import { moveInternalFields } from '../src/store/migrations/move-internal-fields.ts';
import { openStore } from '../src/store/open.ts';
import type {
  AgentRow,
  ApprovalRow,
  AssignmentRow,
  NewEvent,
  Store,
  StoreKind,
  UserRow,
  WorkspaceRow,
} from '../src/store/store.ts';
import { postgresAdmin, postgresServer } from '../../../test/postgres-admin.ts';

/** A fixed clock past 2^32 ms, so a bigint that came back as a string or got truncated shows. */
const T = 1_750_000_000_000;
const at = (offset: number) => T + offset;

const HELD_STATES: AssignmentState[] = ['offered', 'starting', 'running', 'cancelling'];

// ---- backends ----------------------------------------------------------------------------------

interface Provisioned {
  location: string;
  dispose(): Promise<void>;
}

interface Backend {
  kind: StoreKind;
  provision(): Promise<Provisioned>;
}

const backends: Backend[] = [
  {
    kind: 'sqlite',
    provision() {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-store-'));
      return Promise.resolve({
        location: join(dir, 'hub.db'),
        dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
      });
    },
  },
  {
    kind: 'postgres',
    async provision() {
      const name = `gantry_test_${randomBytes(8).toString('hex')}`;
      await postgresAdmin(`CREATE DATABASE "${name}"`);
      return {
        location: `${postgresServer}/${name}`,
        dispose: () => postgresAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      };
    },
  },
];

// ---- fixtures ----------------------------------------------------------------------------------

interface Seed {
  ws: WorkspaceRow;
  user: UserRow;
  agent: AgentRow;
  /** Gateway ids for assignments to name; unique to the case, as the store is shared. */
  gwA: string;
  gwB: string;
}

const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

async function seed(store: Store): Promise<Seed> {
  const ws = await store.createWorkspace(unique('ws'), T);
  const user = await store.createUser(ws.id, 'ada', 'owner', T);
  const agent = await store.createAgent(ws.id, 'claude', 'claude-code', T);
  return { ws, user, agent, gwA: unique('gw_a'), gwB: unique('gw_b') };
}

function assign(store: Store, s: Seed, now: number, agentId = s.agent.id): Promise<AssignmentRow> {
  return store.createAssignment(
    {
      workspaceId: s.ws.id,
      agentId,
      prompt: 'fix the build',
      sessionKey: 'main',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 3_600_000,
      retries: 2,
      createdBy: s.user.id,
    },
    now,
  );
}

/** Moves a queued assignment to a held state on a gateway, with a lease. */
async function hold(store: Store, id: string, state: AssignmentState, gatewayId: string, lease: number) {
  const ok = await store.transition(id, ['queued'], {
    state,
    gateway_id: gatewayId,
    lease_expires_at: lease,
  });
  expect(ok).toBe(true);
}

/** A pending tool-permission approval of an attempt. */
function approval(a: AssignmentRow, requestId: string, created: number, attempt = a.attempt): ApprovalRow {
  return {
    id: unique('apv'),
    workspace_id: a.workspace_id,
    kind: 'tool_permission',
    status: 'pending',
    tool: 'Bash',
    input: `touch ${requestId}`,
    subject: `Bash: touch ${requestId}`,
    agent_id: a.agent_id,
    assignment_id: a.id,
    attempt,
    request_id: requestId,
    created_at: created,
    decided_at: null,
    decided_by: null,
    answered: 0,
  };
}

function event(seq: number, data = `event ${seq}`): NewEvent {
  return { seq, type: 'output', ts: new Date(at(seq)).toISOString(), data: JSON.stringify(data) };
}

const events = (...seqs: number[]) => seqs.map((seq) => event(seq));

const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

/** Rows of `rows` that are among `mine`, by id: for queries that see other cases' rows too. */
const only = (rows: AssignmentRow[], mine: AssignmentRow[]) =>
  ids(rows.filter((r) => mine.some((m) => m.id === r.id))).sort();

const sortedIds = (...rows: AssignmentRow[]) => ids(rows).sort();

function expectNumbers<R extends object>(row: R | undefined, keys: (keyof R)[]) {
  expect(row).toBeDefined();
  for (const key of keys) expect(typeof row?.[key], String(key)).toBe('number');
}

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
        await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db)
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
      ]);
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
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
        ]),
      );
    });

    it('are a no-op when run again, by migrate() or by opening the database again', async () => {
      await store.setMeta('before-remigrate', 'kept');
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
      ]);
      expect(await store.getMeta('before-remigrate')).toBe('kept');
      expect(await store.getWorkspace(s.ws.id)).toEqual(s.ws);
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
      await store.db.insertInto('activity').values(rows).execute();
      await moveInternalFields(store.db as Kysely<unknown>);
      const after = await store.db
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
    expect(await store.getMeta(key)).toBeUndefined();
    await store.setMeta(key, 'one');
    expect(await store.getMeta(key)).toBe('one');
    await store.setMeta(key, 'two');
    expect(await store.getMeta(key)).toBe('two');
  });

  it('workspaces and users: create and get back', async () => {
    expect(s.ws).toMatchObject({ created_at: T });
    expect(s.ws.id).toMatch(/^ws_/);
    expect(await store.getWorkspace(s.ws.id)).toEqual(s.ws);
    expect(await store.getUser(s.user.id)).toEqual({
      id: s.user.id,
      workspace_id: s.ws.id,
      handle: 'ada',
      role: 'owner',
      created_at: T,
      person_id: s.user.id, // a new person unless made as another membership of one
    });
    expect(await store.getWorkspace('ws_missing')).toBeUndefined();
    expect(await store.getUser('usr_missing')).toBeUndefined();
    await expect(store.createWorkspace(s.ws.name)).rejects.toThrow(/unique/i);
  });

  it('firstWorkspace is the earliest created', async () => {
    const first = await store.createWorkspace(unique('first'), 1);
    expect(await store.firstWorkspace()).toEqual(first);
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
      expect(await store.findAgent(ws.id, agent.id)).toEqual(agent);
      expect(await store.findAgent(ws.id, 'claude')).toEqual(agent);
      expect(await store.getAgent(agent.id)).toEqual(agent);
      expect(await store.findAgent(ws.id, 'nobody')).toBeUndefined();

      const other = await seed(store); // also has an agent named 'claude'
      expect(await store.findAgent(other.ws.id, agent.id)).toBeUndefined();
      expect(await store.findAgent(other.ws.id, 'claude')).toEqual(other.agent);
      expect(await store.findAgent(ws.id, other.agent.id)).toBeUndefined();
    });

    it('rejects a duplicate name in one workspace (unique constraint)', async () => {
      await expect(store.createAgent(s.ws.id, 'claude', 'codex')).rejects.toThrow(/unique/i);
      expect(await store.listAgents(s.ws.id)).toEqual([s.agent]);
    });

    it('are listed by name', async () => {
      const codex = await store.createAgent(s.ws.id, 'codex', 'codex', T);
      const aider = await store.createAgent(s.ws.id, 'aider', 'aider', T);
      expect(await store.listAgents(s.ws.id)).toEqual([aider, s.agent, codex]);
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
    };
    await store.insertToken(token);
    expect(await store.getToken(token.id)).toEqual(token);
    await store.touchToken(token.id, at(5));
    expect(await store.getToken(token.id)).toEqual({ ...token, last_used_at: at(5) });
    expect(await store.getToken('tok_missing')).toBeUndefined();
  });

  describe('gateways', () => {
    it('are created disconnected, updated and listed by creation', async () => {
      const gw = await store.createGateway(s.ws.id, 'laptop', 'laptop.local', at(1));
      expect(gw).toMatchObject({ connected: 0, version: null, last_seen_at: null, created_at: at(1) });
      expect(await store.getGateway(gw.id)).toEqual(gw);

      await store.updateGateway(gw.id, { connected: 1, version: '0.1.0', last_seen_at: at(2) });
      const updated = { ...gw, connected: 1, version: '0.1.0', last_seen_at: at(2) };
      expect(await store.getGateway(gw.id)).toEqual(updated);

      const earlier = await store.createGateway(s.ws.id, 'server', null, at(0));
      expect(await store.listGateways(s.ws.id)).toEqual([earlier, updated]);
    });

    it('attach agents; attaching again changes the provider; joins both ways', async () => {
      const laptop = await store.createGateway(s.ws.id, 'laptop', null, T);
      const server = await store.createGateway(s.ws.id, 'server', null, T);
      const codex = await store.createAgent(s.ws.id, 'codex', 'codex', T);
      await store.updateGateway(server.id, { connected: 1 });

      await store.attachAgent(laptop.id, s.agent.id, 'anthropic');
      await store.attachAgent(laptop.id, s.agent.id, 'bedrock'); // upsert
      await store.attachAgent(laptop.id, codex.id, null);
      await store.attachAgent(server.id, s.agent.id, 'anthropic');

      expect(await store.gatewayAgents([laptop.id])).toEqual([
        { gatewayId: laptop.id, id: s.agent.id, name: 'claude', provider: 'bedrock' },
        { gatewayId: laptop.id, id: codex.id, name: 'codex', provider: null },
      ]);
      expect(await store.agentGateways([s.agent.id])).toEqual([
        { agentId: s.agent.id, id: laptop.id, name: 'laptop', connected: 0 },
        { agentId: s.agent.id, id: server.id, name: 'server', connected: 1 },
      ]);
      expect(await store.agentGateways([codex.id])).toEqual([
        { agentId: codex.id, id: laptop.id, name: 'laptop', connected: 0 },
      ]);
      expect(await store.gatewayAgents([])).toEqual([]);
      expect(await store.agentGateways([])).toEqual([]);
    });

    it('disconnectAllGateways marks every gateway disconnected', async () => {
      const gws = await Promise.all(['a', 'b'].map((name) => store.createGateway(s.ws.id, name, null, T)));
      for (const gw of gws) await store.updateGateway(gw.id, { connected: 1 });
      await store.disconnectAllGateways();
      for (const gw of gws) expect((await store.getGateway(gw.id))?.connected).toBe(0);
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
      expect(await store.getAssignment(a.id)).toEqual(a);
      expect(await store.getAssignment('asg_missing')).toBeUndefined();
    });

    it('keep the resume fallback and result details', async () => {
      const a = await store.createAssignment({
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
      await store.transition(a.id, ['queued'], { state: 'succeeded', result_details: details });
      expect(await store.getAssignment(a.id)).toMatchObject({
        resume_fallback: 'new',
        result_details: details,
      });
    });

    it('are listed newest first, by agent, by state, with a limit', async () => {
      const codex = await store.createAgent(s.ws.id, 'codex', 'codex', T);
      const a1 = await assign(store, s, at(1));
      const c2 = await assign(store, s, at(2), codex.id);
      const a3 = await assign(store, s, at(3));
      await hold(store, a3.id, 'offered', s.gwA, at(100));
      await assign(store, await seed(store), at(4)); // another workspace: not listed

      const list = async (filter?: Parameters<Store['listAssignments']>[1]) =>
        ids(await store.listAssignments(s.ws.id, filter));
      expect(await list()).toEqual(ids([a3, c2, a1]));
      expect(await list({ agentId: s.agent.id })).toEqual(ids([a3, a1]));
      expect(await list({ agentId: codex.id })).toEqual(ids([c2]));
      expect(await list({ state: 'queued' })).toEqual(ids([c2, a1]));
      expect(await list({ state: 'offered' })).toEqual(ids([a3]));
      expect(await list({ limit: 2 })).toEqual(ids([a3, c2]));
      expect(await list({ agentId: s.agent.id, state: 'queued', limit: 5 })).toEqual(ids([a1]));
    });
  });

  describe('transition (compare-and-set)', () => {
    it('applies only from the listed states', async () => {
      const a = await assign(store, s, T);
      const before = Date.now();
      expect(await store.transition(a.id, ['offered', 'running'], { state: 'failed' })).toBe(false);
      expect(await store.getAssignment(a.id)).toEqual(a);

      expect(
        await store.transition(a.id, ['queued'], {
          state: 'offered',
          gateway_id: s.gwA,
          lease_expires_at: at(9),
        }),
      ).toBe(true);
      const row = await store.getAssignment(a.id);
      expect(row).toMatchObject({ state: 'offered', gateway_id: s.gwA, lease_expires_at: at(9) });
      expect(row?.updated_at).toBeGreaterThanOrEqual(before);

      expect(await store.transition(a.id, ['queued'], { state: 'offered', gateway_id: s.gwB })).toBe(false);
      expect((await store.getAssignment(a.id))?.gateway_id).toBe(s.gwA);
      expect(await store.transition('asg_missing', ['queued'], { state: 'offered' })).toBe(false);
    });

    it('respects the gatewayId and attempt guard', async () => {
      const a = await assign(store, s, T);
      await hold(store, a.id, 'offered', s.gwA, at(9));
      const start = { state: 'starting' } as const;
      expect(await store.transition(a.id, ['offered'], start, { gatewayId: s.gwB })).toBe(false);
      expect(await store.transition(a.id, ['offered'], start, { attempt: 2 })).toBe(false);
      expect(await store.transition(a.id, ['offered'], start, { gatewayId: s.gwA, attempt: 2 })).toBe(false);
      expect((await store.getAssignment(a.id))?.state).toBe('offered');

      expect(await store.transition(a.id, ['offered'], start, { gatewayId: s.gwA, attempt: 1 })).toBe(true);
      expect((await store.getAssignment(a.id))?.state).toBe('starting');
    });

    it('fences by offer id: an answer to an earlier offer of the same attempt changes nothing', async () => {
      const a = await assign(store, s, T);
      expect(a.offer_id).toBeNull();
      const offer = (offerId: string) =>
        store.transition(a.id, ['queued'], { state: 'offered', gateway_id: s.gwA, offer_id: offerId });
      expect(await offer('off-1')).toBe(true);
      const requeue = { state: 'queued', gateway_id: null, offer_id: null } as const;
      expect(await store.transition(a.id, ['offered'], requeue, { offerId: 'off-1' })).toBe(true);
      expect(await offer('off-2')).toBe(true);

      const guard = { gatewayId: s.gwA, attempt: 1 };
      const start = { state: 'starting' } as const;
      expect(await store.transition(a.id, ['offered'], start, { ...guard, offerId: 'off-1' })).toBe(false);
      expect(await store.getAssignment(a.id)).toMatchObject({ state: 'offered', offer_id: 'off-2' });
      expect(await store.transition(a.id, ['offered'], start, { ...guard, offerId: 'off-2' })).toBe(true);
      expect(await store.getAssignment(a.id)).toMatchObject({ state: 'starting', offer_id: 'off-2' });
    });

    it('lets exactly one of two racing transitions win', async () => {
      for (let round = 0; round < 5; round++) {
        const a = await assign(store, s, at(round));
        const offer = (gatewayId: string) =>
          store.transition(a.id, ['queued'], { state: 'offered', gateway_id: gatewayId }, { attempt: 1 });
        const results = await Promise.all([offer(s.gwA), offer(s.gwB)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results[0] ? s.gwA : s.gwB;
        expect(await store.getAssignment(a.id)).toMatchObject({ state: 'offered', gateway_id: winner });
      }
    });
  });

  describe('queues and leases', () => {
    it('queuedFor: oldest first, only the given agents, up to the limit', async () => {
      const codex = await store.createAgent(s.ws.id, 'codex', 'codex', T);
      const aider = await store.createAgent(s.ws.id, 'aider', 'aider', T);
      const claude3 = await assign(store, s, at(3));
      const codex1 = await assign(store, s, at(1), codex.id);
      await assign(store, s, at(0), aider.id); // not asked for
      const claude4 = await assign(store, s, at(4));
      const offered = await assign(store, s, at(2));
      await hold(store, offered.id, 'offered', s.gwA, at(100)); // not queued any more

      const agents = [s.agent.id, codex.id];
      expect(ids(await store.queuedFor(agents, 10))).toEqual(ids([codex1, claude3, claude4]));
      expect(ids(await store.queuedFor(agents, 2))).toEqual(ids([codex1, claude3]));
      expect(await store.queuedFor([], 10)).toEqual([]);
      expect(await store.queuedFor(agents, 0)).toEqual([]);
    });

    it("queuedFor and queuedBefore pass over a paused agent's work; waiting counts from updated_at", async () => {
      const sleepy = await store.createAgent(s.ws.id, 'sleepy', 'managed', T);
      const held = await assign(store, s, at(1), sleepy.id);
      const mine = await assign(store, s, at(2));
      const pause = (paused: number) =>
        store.db.updateTable('agents').set({ paused }).where('id', '=', sleepy.id).execute();
      // queuedBefore looks at every workspace: only this test's rows count here.
      const expiring = async (before: number) =>
        ids(await store.queuedBefore(before, 1_000_000)).filter((id) => id === held.id || id === mine.id);

      await pause(1);
      expect(ids(await store.queuedFor([s.agent.id, sleepy.id], 10))).toEqual(ids([mine]));
      expect(await expiring(at(10))).toEqual(ids([mine]));
      await pause(0);
      expect(ids(await store.queuedFor([s.agent.id, sleepy.id], 10))).toEqual(ids([held, mine]));
      // Queued again later (requeued, or its agent resumed): its wait starts over.
      await store.db
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

      expect(ids(await store.heldBy(s.gwA)).sort()).toEqual(sortedIds(...held));
      expect(ids(await store.heldBy(s.gwB))).toEqual(ids([elsewhere]));
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

      expect(only(await store.leaseExpired(at(150)), mine)).toEqual(sortedIds(early));
      expect(only(await store.leaseExpired(at(100)), mine)).toEqual([]); // strictly before
      expect(only(await store.leaseExpired(at(201)), mine)).toEqual(sortedIds(early, late));
    });

    it('renewLeases extends the held assignments of one gateway; refreshAllLeases of every gateway', async () => {
      const mineHeld = await assign(store, s, T);
      const mineDone = await assign(store, s, T);
      const otherHeld = await assign(store, s, T);
      const queued = await assign(store, s, T);
      await hold(store, mineHeld.id, 'running', s.gwA, at(100));
      await hold(store, mineDone.id, 'succeeded', s.gwA, at(100));
      await hold(store, otherHeld.id, 'starting', s.gwB, at(100));

      const lease = async (a: AssignmentRow) => (await store.getAssignment(a.id))?.lease_expires_at;
      const leases = () => Promise.all([mineHeld, mineDone, otherHeld, queued].map(lease));

      await store.renewLeases(s.gwA, at(500));
      expect(await leases()).toEqual([at(500), at(100), at(100), null]);

      await store.refreshAllLeases(at(900));
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
      await store.insertApproval(first);
      await store.insertApproval({ ...approval(a, 'req-1', at(2)), input: 'replayed' });
      expect(await store.getApproval(first.id)).toEqual(first);
      expect(await store.findApproval(a.id, 1, 'req-1')).toEqual(first);
      expect(await store.findApproval(a.id, 2, 'req-1')).toBeUndefined();
      expect(await store.getApproval('apv_missing')).toBeUndefined();

      const nextAttempt = approval(a, 'req-1', at(3), 2);
      await store.insertApproval(nextAttempt);
      expect(await store.findApproval(a.id, 2, 'req-1')).toEqual(nextAttempt);
    });

    it('are listed newest first, by status, with a limit, within their workspace', async () => {
      const older = approval(a, 'old', at(1));
      const newer = approval(a, 'new', at(2));
      const denied = { ...approval(a, 'denied', at(3)), status: 'denied' };
      for (const row of [older, newer, denied]) await store.insertApproval(row);
      const other = await seed(store);
      await store.insertApproval(approval(await assign(store, other, T), 'theirs', at(4)));

      expect(ids(await store.listApprovals(s.ws.id))).toEqual(ids([denied, newer, older]));
      expect(ids(await store.listApprovals(s.ws.id, { status: 'pending' }))).toEqual(ids([newer, older]));
      expect(ids(await store.listApprovals(s.ws.id, { limit: 1 }))).toEqual(ids([denied]));
    });

    it('updateApproval is a compare-and-set on the status', async () => {
      const row = approval(a, 'cas', at(1));
      await store.insertApproval(row);
      const decide = { status: 'approved', decided_at: at(2), decided_by: s.user.id };
      expect(await store.updateApproval(row.id, ['pending'], decide)).toBe(true);
      expect(await store.updateApproval(row.id, ['pending'], { ...decide, status: 'denied' })).toBe(false);
      expect(await store.updateApproval(row.id, ['approved'], { answered: 1 })).toBe(true);
      expect(await store.getApproval(row.id)).toEqual({ ...row, ...decide, answered: 1 });
    });

    it('expireApprovals ends the pending approvals of one attempt only', async () => {
      const pending = approval(a, 'p', at(1));
      const approved = { ...approval(a, 'a', at(1)), status: 'approved' };
      const otherAttempt = approval(a, 'p', at(1), 2);
      for (const row of [pending, approved, otherAttempt]) await store.insertApproval(row);

      expect(await store.expireApprovals(a.id, 1, at(5))).toBe(1);
      expect(await store.getApproval(pending.id)).toMatchObject({ status: 'expired', decided_at: at(5) });
      expect((await store.getApproval(approved.id))?.status).toBe('approved');
      expect((await store.getApproval(otherAttempt.id))?.status).toBe('pending');
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
      for (const row of [wanted, denied, answered, pending, oldAttempt]) await store.insertApproval(row);
      const done = await assign(store, s, T);
      await hold(store, done.id, 'succeeded', s.gwA, at(100));
      await store.insertApproval({ ...approval(done, 'done', at(1)), status: 'approved' });

      expect(ids(await store.unansweredDecisions(s.gwA)).sort()).toEqual(ids([wanted, denied]).sort());
      expect(await store.unansweredDecisions(s.gwB)).toEqual([]);
      expectNumbers((await store.unansweredDecisions(s.gwA))[0], ['attempt', 'created_at', 'answered']);
    });
  });

  describe('events', () => {
    let a: AssignmentRow;
    beforeEach(async () => {
      a = await assign(store, s, T);
    });

    const stored = async (attempt = 1) =>
      (await store.listEvents(a.id)).filter((e) => e.attempt === attempt).map((e) => [e.seq, e.data]);

    it('are stored by (assignment, attempt, seq); the highest contiguous seq is returned', async () => {
      expect(await store.appendEvents(a.id, 1, events(1, 2, 3))).toBe(3);
      expect(await store.listEvents(a.id)).toEqual(
        events(1, 2, 3).map((e) => ({ ...e, assignment_id: a.id, attempt: 1 })),
      );
      expect(await store.appendEvents(a.id, 1, [])).toBe(3);
    });

    it('re-appending stored seqs changes nothing: the first write is kept', async () => {
      await store.appendEvents(a.id, 1, events(1, 2));
      const first = await stored();
      expect(await store.appendEvents(a.id, 1, [event(1, 'replayed'), event(2, 'replayed')])).toBe(2);
      expect(await stored()).toEqual(first);
      expect(await store.appendEvents(a.id, 1, [event(2, 'replayed'), event(3)])).toBe(3);
      expect(await stored()).toEqual([...first, [3, JSON.stringify('event 3')]]);
    });

    it('an out-of-order batch counts only up to the gap, until the gap is filled', async () => {
      expect(await store.appendEvents(a.id, 1, events(1, 2, 4))).toBe(2);
      expect(await store.contiguousSeq(a.id, 1)).toBe(2);
      expect(await store.appendEvents(a.id, 1, events(3))).toBe(4);
      expect(await store.appendEvents(a.id, 1, events(6, 7))).toBe(4);
      expect(await store.appendEvents(a.id, 1, events(5))).toBe(7);
    });

    it('contiguousSeq is 0 with no events and with seq 1 missing', async () => {
      expect(await store.contiguousSeq(a.id, 1)).toBe(0);
      expect(await store.appendEvents(a.id, 2, events(2, 3))).toBe(0);
      expect(await store.contiguousSeq(a.id, 2)).toBe(0);
      expect(await store.appendEvents(a.id, 3, events(3))).toBe(0);
    });

    it('each attempt counts its own seqs', async () => {
      await store.appendEvents(a.id, 1, events(1, 2, 3));
      expect(await store.appendEvents(a.id, 2, events(1))).toBe(1);
      expect(await store.contiguousSeq(a.id, 1)).toBe(3);
    });

    it('are listed by attempt then seq, after a cursor that spans attempts', async () => {
      await store.appendEvents(a.id, 2, events(2, 1)); // the later attempt first, out of order
      await store.appendEvents(a.id, 1, events(3, 1, 2));
      const other = await assign(store, s, T);
      await store.appendEvents(other.id, 1, events(1));

      const positions = async (after?: { attempt: number; seq: number }, limit?: number) =>
        (await store.listEvents(a.id, after, limit)).map((e) => [e.attempt, e.seq]);
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
    const gw = await store.createGateway(s.ws.id, 'laptop', null, T);
    await store.updateGateway(gw.id, { connected: 1, last_seen_at: at(1) });
    const a = await assign(store, s, T);
    await store.transition(a.id, ['queued'], {
      state: 'running',
      gateway_id: gw.id,
      lease_expires_at: at(2),
      started_at: at(3),
      result_exit_code: 0,
    });
    await store.appendEvents(a.id, 1, events(1));
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
    };
    await store.insertToken(token);

    expectNumbers(await store.getWorkspace(s.ws.id), ['created_at']);
    expectNumbers(await store.getUser(s.user.id), ['created_at']);
    expectNumbers(await store.getAgent(s.agent.id), ['created_at']);
    expectNumbers(await store.getToken(token.id), ['created_at', 'expires_at', 'last_used_at', 'revoked_at']);
    expectNumbers(await store.getGateway(gw.id), ['connected', 'last_seen_at', 'created_at']);
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
    expectNumbers(await store.getAssignment(a.id), [...assignmentNumbers]);
    expectNumbers((await store.listAssignments(s.ws.id))[0], [...assignmentNumbers]);
    expectNumbers((await store.heldBy(gw.id))[0], [...assignmentNumbers]);
    expectNumbers((await store.listEvents(a.id))[0], ['attempt', 'seq']);
    await store.attachAgent(gw.id, s.agent.id, null, T);
    expectNumbers((await store.agentGateways([s.agent.id]))[0], ['connected']);
    expect(typeof (await store.contiguousSeq(a.id, 1))).toBe('number');
    expect(await store.getAssignment(a.id)).toMatchObject({ created_at: T, lease_expires_at: at(2) });
  });
});
