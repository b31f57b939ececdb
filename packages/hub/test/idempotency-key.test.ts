/**
 * `Idempotency-Key` on `POST /v1/assignments` (issue 15): a retried create returns the assignment
 * the first made (marked `Idempotent-Replayed: true`), never a twin; the key with another request
 * is 409; a failed request leaves the key free. On one SQLite hub, and across two hubs on one
 * PostgreSQL, where racing retries through both hubs still make one assignment.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignmentSchema, createdAgentSchema, errorBodySchema } from '../../protocol/src/index.ts';
import { createHub, type Hub } from '../src/hub.ts';
import { postgresAdmin, postgresServer } from '../../../test/postgres-admin.ts';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

type Request = (path: string, init?: RequestInit) => Promise<Response>;

function poster(request: Request, token: string) {
  return async (path: string, json: unknown, key?: string) => {
    const res = await request(path, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      body: JSON.stringify(json),
    });
    return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: await res.json() };
  };
}

async function count(request: Request, token: string, agent: string): Promise<number> {
  const res = await request(`/v1/assignments?agent=${agent}&limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as unknown[]).length;
}

describe('Idempotency-Key on one hub (SQLite)', () => {
  let temp: InProcessHub;
  let post: ReturnType<typeof poster>;
  beforeAll(async () => {
    temp = await createTempHub('gantry-idem-');
    post = poster(temp.request, temp.ownerToken);
    expect((await post('/v1/agents', { name: 'idem' })).status).toBe(201);
  });
  afterAll(() => temp?.stop());

  it('answers a retry with the first assignment, marked as a replay', async () => {
    const body = { agent: 'idem', prompt: 'build it', retries: 1 };
    const first = await post('/v1/assignments', body, 'k-1');
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    const again = await post('/v1/assignments', { retries: 1, prompt: 'build it', agent: 'idem' }, 'k-1');
    expect(again.status).toBe(201);
    expect(again.replayed).toBe('true');
    expect(assignmentSchema.parse(again.body).id).toBe(assignmentSchema.parse(first.body).id);
    expect(await count(temp.request, temp.ownerToken, 'idem')).toBe(1);
    // Without a key, every create is a new assignment.
    await post('/v1/assignments', body);
    await post('/v1/assignments', body);
    expect(await count(temp.request, temp.ownerToken, 'idem')).toBe(3);
  });

  it('refuses the key with a different request (409), and a malformed key (400)', async () => {
    await post('/v1/assignments', { agent: 'idem', prompt: 'one' }, 'k-2');
    const other = await post('/v1/assignments', { agent: 'idem', prompt: 'two' }, 'k-2');
    expect(other.status).toBe(409);
    const error = errorBodySchema.parse(other.body).error;
    expect(error.code).toBe('conflict');
    expect(error.message).toContain("Idempotency-Key 'k-2' was already used");
    for (const bad of ['a b', 'x'.repeat(256), 'tab\there']) {
      const res = await post('/v1/assignments', { agent: 'idem', prompt: 'x' }, bad);
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(errorBodySchema.parse(res.body).error.message).toContain('invalid Idempotency-Key header');
    }
  });

  it('leaves the key free when the request failed, and is per person', async () => {
    const missing = await post('/v1/assignments', { agent: 'nobody', prompt: 'x' }, 'k-3');
    expect(missing.status).toBe(404);
    const fixed = await post('/v1/assignments', { agent: 'idem', prompt: 'x' }, 'k-3');
    expect([fixed.status, fixed.replayed]).toEqual([201, null]);
    // An agent's own create with a key a person used is another request.
    const agent = createdAgentSchema.parse((await post('/v1/agents', { name: 'idem-agent' })).body);
    const asAgent = poster(temp.request, agent.key);
    expect((await asAgent('/v1/assignments', { agent: 'idem', prompt: 'x' }, 'k-3')).status).toBe(409);
  });
});

describe('Idempotency-Key across two hubs on one PostgreSQL', () => {
  const database = `gantry_idem_${randomBytes(6).toString('hex')}`;
  const hubs: Hub[] = [];
  const dirs: string[] = [];
  let owner = '';
  beforeAll(async () => {
    await postgresAdmin(`CREATE DATABASE "${database}"`);
    for (let i = 0; i < 2; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'gantry-idem-pg-'));
      dirs.push(dir);
      const hub = await createHub({ db: `${postgresServer}/${database}`, dataDir: dir });
      await hub.start();
      hubs.push(hub);
    }
    owner = hubs[0]!.bootstrap.ownerToken ?? '';
  });
  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await postgresAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('makes one assignment of racing retries through both hubs', async () => {
    const [a, b] = hubs.map((h) => poster((path, init) => Promise.resolve(h.app.request(path, init)), owner));
    expect((await a!('/v1/agents', { name: 'idem-pg' })).status).toBe(201);
    const body = { agent: 'idem-pg', prompt: 'once across hubs' };
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const answers = await Promise.all([a, b, a, b].map((post) => post!('/v1/assignments', body, key)));
      expect(answers.map((x) => x.status)).toEqual([201, 201, 201, 201]);
      expect(new Set(answers.map((x) => assignmentSchema.parse(x.body).id)).size).toBe(1);
      expect(answers.filter((x) => x.replayed === null)).toHaveLength(1);
    }
    const request: Request = (path, init) => Promise.resolve(hubs[1]!.app.request(path, init));
    expect(await count(request, owner, 'idem-pg')).toBe(5);
  });
});
