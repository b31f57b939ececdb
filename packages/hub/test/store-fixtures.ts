/**
 * What the store contract suites share: the two backends (SQLite in a temp file, PostgreSQL in a
 * fresh database on the local server, dropped afterwards), a store per backend, and row fixtures.
 * A clock past 2^32 ms, so a bigint that came back as a string or got truncated shows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import type { AssignmentState } from '@gantry/protocol';
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

export const T = 1_750_000_000_000;
export const at = (offset: number) => T + offset;

export const HELD_STATES: AssignmentState[] = ['offered', 'starting', 'running', 'cancelling'];

// ---- backends ----------------------------------------------------------------------------------

export interface Provisioned {
  location: string;
  dispose(): Promise<void>;
}

export interface Backend {
  kind: StoreKind;
  provision(): Promise<Provisioned>;
}

export const backends: Backend[] = [
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

export interface Seed {
  ws: WorkspaceRow;
  user: UserRow;
  agent: AgentRow;
  /** Gateway ids for assignments to name; unique to the case, as the store is shared. */
  gwA: string;
  gwB: string;
}

export const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

export async function seed(store: Store): Promise<Seed> {
  const ws = await store.users.createWorkspace(unique('ws'), T);
  const user = await store.users.create(ws.id, 'ada', 'owner', T);
  const agent = await store.agents.create(ws.id, 'claude', 'claude-code', T);
  return { ws, user, agent, gwA: unique('gw_a'), gwB: unique('gw_b') };
}

export function assign(store: Store, s: Seed, now: number, agentId = s.agent.id): Promise<AssignmentRow> {
  return store.assignments.create(
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
export async function hold(
  store: Store,
  id: string,
  state: AssignmentState,
  gatewayId: string,
  lease: number,
) {
  const ok = await store.assignments.transition(id, ['queued'], {
    state,
    gateway_id: gatewayId,
    lease_expires_at: lease,
  });
  expect(ok).toBe(true);
}

/** A pending tool-permission approval of an attempt. */
export function approval(
  a: AssignmentRow,
  requestId: string,
  created: number,
  attempt = a.attempt,
): ApprovalRow {
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

export function event(seq: number, data = `event ${seq}`): NewEvent {
  return { seq, type: 'output', ts: new Date(at(seq)).toISOString(), data: JSON.stringify(data) };
}

export const events = (...seqs: number[]) => seqs.map((seq) => event(seq));

export const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

/** Rows of `rows` that are among `mine`, by id: for queries that see other cases' rows too. */
export const only = (rows: AssignmentRow[], mine: AssignmentRow[]) =>
  ids(rows.filter((r) => mine.some((m) => m.id === r.id))).sort();

export const sortedIds = (...rows: AssignmentRow[]) => ids(rows).sort();

export function expectNumbers<R extends object>(row: R | undefined, keys: (keyof R)[]) {
  expect(row).toBeDefined();
  for (const key of keys) expect(typeof row?.[key], String(key)).toBe('number');
}

/** The context a contract case runs in: a store of one backend, and a fresh seed per case. */
export interface Contract {
  backend: Backend;
  store: Store;
  s: Seed;
}

/**
 * Runs `cases` against every backend: one store per backend for the file, each case in its own
 * workspace (it asserts only on rows it created, so cases do not depend on one another).
 */
export function describeContract(name: string, cases: (c: Contract) => void): void {
  describe.each(backends)(`${name} ($kind)`, (backend) => {
    let provisioned: Provisioned;
    const c = { backend } as Contract;
    beforeAll(async () => {
      provisioned = await backend.provision();
      c.store = await openStore(provisioned.location);
    });
    afterAll(async () => {
      try {
        await c.store?.close();
      } finally {
        await provisioned?.dispose();
      }
    });
    beforeEach(async () => {
      c.s = await seed(c.store);
    });
    cases(c);
  });
}
