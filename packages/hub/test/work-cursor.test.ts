/**
 * How far the hub has read the activity log for work: saved at once past a mention that started a
 * run, within a second past messages that started nothing, and a hub that lost its saves (it died)
 * reads the entries again and starts nothing twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../src/hub.ts';

let dir: string;
let hub: Hub;
let owner: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-work-cursor-'));
  hub = await createHub({ db: join(dir, 'hub.db'), dataDir: dir });
  await hub.start();
  owner = hub.bootstrap.ownerToken ?? '';
});
afterAll(async () => {
  await hub.stop();
  await rm(dir, { recursive: true, force: true });
});

async function call(path: string, body?: unknown): Promise<unknown> {
  const res = await hub.app.request(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const savedCursor = async () => Number(await hub.ctx.store.meta.get('work_cursor'));
/** The id of the newest message's entry (the cursor moves over the entries that can start work). */
const lastMessage = async () =>
  Number((await hub.ctx.store.activity.ofTypes(['message.created'], 0, 1000)).at(-1)?.id);
const runsOf = async (agent: string) => ((await call(`/v1/assignments?agent=${agent}`)) as unknown[]).length;

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end && !(await check());)
    await new Promise((r) => setTimeout(r, 25));
  expect(await check()).toBe(true);
}

describe('the work cursor', () => {
  it('is saved at once past a mention that started a run', async () => {
    await call('/v1/agents', { name: 'builder' });
    await call('/v1/agents', { name: 'reader', kind: 'pass_through' });
    await call('/v1/messages', { body: 'build it', to: ['builder'] });
    await until(async () => (await runsOf('builder')) === 1, 5000);
    // Well before the timed save (a second) would have saved it.
    const started = await lastMessage();
    await until(async () => (await savedCursor()) === started, 500);
  });

  it('is saved within a second past messages that started nothing', async () => {
    for (let i = 0; i < 3; i++) await call('/v1/messages', { body: `note ${i}`, to: ['reader'] });
    const end = await lastMessage();
    await until(async () => (await savedCursor()) === end, 3000);
  });

  it('is read again from where a hub that lost its saves left it, and nothing starts twice', async () => {
    await hub.stop();
    hub = await createHub({ db: join(dir, 'hub.db'), dataDir: dir });
    await hub.ctx.store.meta.set('work_cursor', '0');
    await hub.start();
    await call('/v1/messages', { body: 'and this', to: ['builder'] });
    const mention = await lastMessage();
    // Every entry before it was read again (in order) once the cursor is saved past it.
    await until(async () => (await savedCursor()) >= mention, 5000);
    expect(await runsOf('builder')).toBe(2);
  });
});
