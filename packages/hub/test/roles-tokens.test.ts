/**
 * Roles and token revocation at the hub's REST API: admins decide approvals and members do not;
 * members cannot manage users; an inbox wait held open with a token ends with a 401 the moment
 * that token is revoked; an agent key never mints, lists or revokes tokens. The hub runs in-process
 * (`createHub()`, no port): every request is `app.request()`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

let temp: InProcessHub;

beforeAll(async () => {
  temp = await createTempHub('gantry-roles-');
});
afterAll(() => temp?.stop());

async function call(
  path: string,
  token: string,
  init: { method?: string; json?: unknown; signal?: AbortSignal } = {},
): Promise<{
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}> {
  const response = await temp.request(path, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: init.signal,
  });
  return { status: response.status, body: (await response.json()) as never };
}

async function addUser(handle: string, role: string): Promise<string> {
  const created = await call('/v1/users', temp.ownerToken, { json: { handle, role } });
  expect(created.status).toBe(201);
  return (created.body as { token: string }).token;
}

describe('roles', () => {
  it('lets an admin decide approvals; a member finds only the tool requests of runs they started', async () => {
    const admin = await addUser('ada', 'admin');
    const member = await addUser('max', 'member');
    // No such approval: both get as far as looking it up (a member may decide their own runs' requests).
    expect((await call('/v1/approvals/apv_none/approve', admin, { json: {} })).status).toBe(404);
    expect((await call('/v1/approvals', admin)).status).toBe(200);
    const refused = await call('/v1/approvals/apv_none/approve', member, { json: {} });
    expect(refused.status).toBe(404);
    expect(refused.body.error?.message).toBe('no approval apv_none');
    expect((await call('/v1/users', member, { json: { handle: 'zed' } })).status).toBe(403);
    expect((await call('/v1/users', admin, { json: { handle: 'zed', role: 'owner' } })).status).toBe(403);
    expect((await call('/v1/users', member)).status).toBe(200);
  });

  it('keeps agent keys away from tokens', async () => {
    const agent = await call('/v1/agents', temp.ownerToken, { json: { name: 'bot' } });
    const key = (agent.body as { key: string }).key;
    expect((await call('/v1/tokens', key)).status).toBe(403);
    expect((await call('/v1/tokens', key, { json: {} })).status).toBe(403);
    expect((await call('/v1/users', key)).status).toBe(403);
    expect((await call('/v1/agents/bot/rotate-key', key, { json: {} })).status).toBe(403);
    expect((await call('/v1/agents/bot/keys', key, { json: {} })).status).toBe(403);
  });
});

describe('revocation', () => {
  it('ends an open inbox wait with a 401 the moment its token is revoked', async () => {
    const member = await addUser('wes', 'member');
    const created = await call('/v1/tokens', member, { json: {} });
    const { token, secret } = created.body as { token: { id: string }; secret: string };
    const started = Date.now();
    const waiting = call('/v1/inbox?wait=60000', secret);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const revoked = await call(`/v1/tokens/${token.id}/revoke`, member, { json: {} });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked).toBe(true);
    const answer = await waiting;
    expect(answer.status).toBe(401);
    expect(answer.body.error?.message).toBe('token revoked');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await call('/v1/me', secret)).status).toBe(401);
  });

  it('answers 404 for a token of another user to a member, and lets an admin revoke it', async () => {
    const admin = await addUser('ann', 'admin');
    const member = await addUser('mo', 'member');
    const theirs = await call('/v1/tokens', member, { json: {} });
    const { token, secret } = theirs.body as { token: { id: string }; secret: string };
    const other = await addUser('pat', 'member');
    expect((await call(`/v1/tokens/${token.id}/revoke`, other, { json: {} })).status).toBe(404);
    expect((await call(`/v1/tokens/${token.id}/revoke`, admin, { json: {} })).status).toBe(200);
    expect((await call('/v1/me', secret)).status).toBe(401);
  });
});

describe('the token a request is made with', () => {
  it('is the one listed and revoked as current; a token just minted is not', async () => {
    const member = await addUser('cal', 'member');
    const minted = await call('/v1/tokens', member, { json: {} });
    const { token, secret } = minted.body as { token: { id: string; current: boolean }; secret: string };
    expect(token.current).toBe(false);
    const listed = (await call('/v1/tokens', secret)).body as unknown as { id: string; current: boolean }[];
    expect(listed.filter((t) => t.current).map((t) => t.id)).toEqual([token.id]);
    const revoked = await call(`/v1/tokens/${token.id}/revoke`, secret, { json: {} });
    expect(revoked.body).toMatchObject({ id: token.id, current: true, revoked: true });
  });
});
