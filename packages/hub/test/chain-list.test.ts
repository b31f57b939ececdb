/**
 * Issue 13, Needs you: chains stopped at their limit (`GET /v1/chains?state=stopped`), on SQLite and
 * PostgreSQL alike. A person's message that runs two agents in a chain allowed one run stops at
 * the second; the chain is listed for the person who started it and for owners and admins, never
 * for another member or an agent; `continue` runs what was stopped and `dismiss` leaves it stopped,
 * and either takes it off the list (with a `chain.continued` or `chain.dismissed` entry).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignmentSchema,
  chainSchema,
  chainSummarySchema,
  type ActivityEvent,
  type ChainSummary,
} from '../../protocol/src/index.ts';
import { postgresAdmin, postgresServer } from '../../../test/postgres-admin.ts';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

const pgName = `gantry_test_${randomBytes(8).toString('hex')}`;
const stores: { kind: string; db(): Promise<string | undefined>; drop(): Promise<void> }[] = [
  { kind: 'sqlite', db: () => Promise.resolve(undefined), drop: () => Promise.resolve() },
  {
    kind: 'postgres',
    async db() {
      await postgresAdmin(`create database ${pgName}`);
      return `${postgresServer}/${pgName}`;
    },
    drop: () => postgresAdmin(`drop database if exists ${pgName} with (force)`),
  },
];

describe.each(stores)('chains stopped at their limit, on $kind', (backend) => {
  let temp: InProcessHub;
  const tokens = { owner: '', admin: '', max: '', mia: '', agent: '' };

  const call = async (path: string, token: string, json?: unknown) => {
    const res = await temp.request(path, {
      method: json === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const stopped = async (token: string): Promise<ChainSummary[]> => {
    const res = await call('/v1/chains?state=stopped', token);
    expect(res.status).toBe(200);
    return chainSummarySchema.array().parse(res.body);
  };
  const eventually = async <T>(read: () => Promise<T | undefined>, what: string): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await read();
      if (value !== undefined) return value;
      await sleep(25);
    }
    throw new Error(`never: ${what}`);
  };
  const entries = async (type: string): Promise<ActivityEvent[]> =>
    ((await call('/v1/events?since=0&limit=1000', tokens.owner)).body as ActivityEvent[]).filter(
      (e) => e.type === type,
    );
  /** A person's message running two agents in a chain allowed one run: the second is stopped. */
  const stopChain = async (token: string, body: string) => {
    const sent = await call('/v1/messages', token, { body, chainMaxRuns: 1 });
    expect(sent.status).toBe(201);
    const id = (sent.body as { id: string }).id;
    const chain = await eventually(
      async () => (await stopped(tokens.owner)).find((c) => c.id === id),
      `chain ${id} stopped`,
    );
    return chain;
  };

  beforeAll(async () => {
    const db = await backend.db();
    temp = await createTempHub('gantry-chain-list-', db ? { db } : {});
    tokens.owner = temp.ownerToken;
    for (const [handle, role] of [
      ['ada', 'admin'],
      ['max', 'member'],
      ['mia', 'member'],
    ] as const) {
      const created = await call('/v1/users', tokens.owner, { handle, role });
      tokens[handle === 'ada' ? 'admin' : handle] = (created.body as { token: string }).token;
    }
    for (const name of ['writer', 'checker']) {
      const agent = await call('/v1/agents', tokens.owner, { name });
      tokens.agent = (agent.body as { key: string }).key;
    }
  }, 60_000);
  afterAll(async () => {
    await temp?.stop();
    await backend.drop();
  });

  it('lists a stopped chain for its person, owners and admins only; continue runs what was stopped', async () => {
    const chain = await stopChain(tokens.max, '@writer @checker please look at the login bug\nmore');
    expect(chain).toMatchObject({
      root: { kind: 'message', id: chain.id },
      person: { kind: 'user', name: 'max' },
      maxRuns: 1,
      runs: 1,
      // The writer's run waits for a gateway: one run, one deep, not ended.
      depth: 1,
      active: 1,
      held: 1,
      stop: { limit: 'runs', agent: { name: 'checker' }, waiting: 1 },
    });
    // The first line of the message, for the person who wrote it; an admin sees the chain, not the thread.
    expect((await stopped(tokens.max)).map((c) => [c.id, c.head])).toEqual([
      [chain.id, '@writer @checker please look at the login bug'],
    ]);
    expect((await stopped(tokens.admin)).find((c) => c.id === chain.id)?.head).toBeNull();
    expect(await stopped(tokens.mia)).toEqual([]);
    expect((await call('/v1/chains?state=stopped', tokens.agent)).status).toBe(403);
    // An agent's key: refused the same way whether the chain is there or not.
    for (const path of [chain.id, `${chain.id}/continue`, `${chain.id}/dismiss`, 'chn_none/dismiss']) {
      const res = await call(`/v1/chains/${path}`, tokens.agent, path === chain.id ? undefined : {});
      expect(res).toMatchObject({
        status: 403,
        body: { error: { message: expect.stringContaining('people only') } },
      });
    }
    expect((await call('/v1/chains?state=running', tokens.owner)).status).toBe(400);
    // Every chain the caller may see, stopped or not: max's own.
    const all = chainSummarySchema.array().parse((await call('/v1/chains', tokens.max)).body);
    expect(all.map((c) => c.id)).toContain(chain.id);
    expect((await call(`/v1/chains/${chain.id}/continue`, tokens.mia, {})).status).toBe(404);
    expect((await call(`/v1/chains/${chain.id}/dismiss`, tokens.mia, {})).status).toBe(404);

    // The tree says it waits on a person, since its stop.
    const tree = chainSchema.parse((await call(`/v1/chains/${chain.id}`, tokens.max)).body);
    expect(tree.stoppedAt).toBe(chain.stop?.at);
    const went = await call(`/v1/chains/${chain.id}/continue`, tokens.max, {});
    expect(went.status).toBe(200);
    expect(chainSchema.parse(went.body)).toMatchObject({ id: chain.id, stoppedAt: null });
    expect((await stopped(tokens.owner)).map((c) => c.id)).not.toContain(chain.id);
    expect((await entries('chain.continued')).map((e) => e.subject)).toContain(chain.id);
    // What was stopped runs: the checker's assignment in that chain.
    const runs = await eventually(async () => {
      const res = await call(`/v1/assignments?chain=${chain.id}`, tokens.max);
      const list = assignmentSchema.array().parse(res.body);
      return list.length === 2 ? list : undefined;
    }, 'the stopped run made');
    expect(runs.map((r) => r.agent.name).sort()).toEqual(['checker', 'writer']);
  });

  it('dismiss leaves a stopped chain stopped and off the list, once; continue may still run it', async () => {
    const chain = await stopChain(tokens.owner, 'task for @writer and @checker');
    expect((await stopped(tokens.admin)).find((c) => c.id === chain.id)?.head).toBeNull();
    expect((await stopped(tokens.owner)).find((c) => c.id === chain.id)?.head).toBe(
      'task for @writer and @checker',
    );
    expect(await stopped(tokens.max)).toEqual([]);
    const dismissed = await call(`/v1/chains/${chain.id}/dismiss`, tokens.admin, {});
    expect(dismissed.status).toBe(200);
    expect(chainSchema.parse(dismissed.body)).toMatchObject({ stopped: [{}], stoppedAt: null });
    expect(chainSchema.parse((await call(`/v1/chains/${chain.id}`, tokens.owner)).body).stoppedAt).toBeNull();
    expect((await stopped(tokens.owner)).map((c) => c.id)).not.toContain(chain.id);
    // Again: nothing changes, and no second entry.
    expect((await call(`/v1/chains/${chain.id}/dismiss`, tokens.owner, {})).status).toBe(200);
    expect((await entries('chain.dismissed')).filter((e) => e.subject === chain.id)).toHaveLength(1);
    expect(
      assignmentSchema.array().parse((await call(`/v1/assignments?chain=${chain.id}`, tokens.owner)).body),
    ).toHaveLength(1);
    // Dismissed is not forgotten: continue still runs what was stopped.
    expect((await call(`/v1/chains/${chain.id}/continue`, tokens.owner, {})).status).toBe(200);
    await eventually(async () => {
      const res = await call(`/v1/assignments?chain=${chain.id}`, tokens.owner);
      return assignmentSchema.array().parse(res.body).length === 2 ? true : undefined;
    }, 'the dismissed chain continued');
  });
});
