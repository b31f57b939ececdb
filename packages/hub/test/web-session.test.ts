/**
 * The dashboard's browser sessions (issue 13) on a real hub over HTTP: the cookie's attributes, the
 * CSRF check, who may sign in, sign-out, revocation and user removal ending a session at once (REST
 * and open SSE streams), the one-time sign-in link (once, within its TTL), idle and absolute expiry.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubOptions, type RunningHub } from '../src/server.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';
import { postgresAdmin, postgresServer } from '../../../test/postgres-admin.ts';

let temp: TempHub;
const extraHubs: { hub: RunningHub; dir: string }[] = [];

beforeAll(async () => {
  temp = await startTempHub('gantry-web-session-');
});
afterAll(async () => {
  await temp?.stop();
  for (const { hub, dir } of extraHubs) {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Another hub with its own options (public URL, short lifetimes); closed after the file. */
async function hubWith(options: Partial<HubOptions>): Promise<{ hub: RunningHub; ownerToken: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-web-session-'));
  const hub = await startHub({
    host: '127.0.0.1',
    port: 0,
    db: join(dir, 'hub.db'),
    dataDir: dir,
    ...options,
  });
  extraHubs.push({ hub, dir });
  return { hub, ownerToken: hub.bootstrap.ownerToken ?? '' };
}

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
  headers: Headers;
}

async function call(
  url: string,
  path: string,
  init: { method?: string; json?: unknown; bearer?: string; cookie?: string; csrf?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf !== undefined) headers['x-csrf-token'] = init.csrf;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Reply['body']) : {}, headers: res.headers };
}

interface Session {
  cookie: string;
  setCookie: string;
  csrf: string;
  body: Reply['body'];
}

async function signIn(url: string, credential: { token: string } | { code: string }): Promise<Session> {
  const reply = await call(url, '/v1/web/session', { json: credential });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const setCookie = reply.headers.getSetCookie().find((c) => c.startsWith('gantry_session=')) ?? '';
  return {
    cookie: setCookie.split(';')[0] ?? '',
    setCookie,
    csrf: reply.body.csrfToken as string,
    body: reply.body,
  };
}

async function addUser(handle: string): Promise<string> {
  const created = await call(temp.hub.url, '/v1/users', { json: { handle }, bearer: temp.ownerToken });
  expect(created.status).toBe(201);
  return created.body.token as string;
}

/** An open SSE stream of the activity log, read as text as it arrives. */
function openEvents(url: string, cookie: string) {
  const state = { text: '', ended: false, status: 0 };
  const done = (async () => {
    const res = await fetch(`${url}/v1/events`, { headers: { cookie, accept: 'text/event-stream' } });
    state.status = res.status;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      state.text += decoder.decode(value, { stream: true });
    }
  })()
    // A stream cut by the hub closing at the end of the file has ended too.
    .catch(() => undefined)
    .finally(() => (state.ended = true));
  return { state, done };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie (not Secure on plain http) that acts as the user', async () => {
    const session = await signIn(temp.hub.url, { token: temp.ownerToken });
    const attributes = session.setCookie.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    expect(attributes).not.toContain('secure');
    expect(session.body).toMatchObject({
      user: { name: 'owner', role: 'owner' },
      workspace: { name: 'default' },
    });
    expect(session.csrf).toMatch(/^[\w-]{20,}$/);

    const me = await call(temp.hub.url, '/v1/me', { cookie: session.cookie });
    expect(me.status).toBe(200);
    expect(me.body.principal).toMatchObject({ kind: 'user', name: 'owner' });
    // Every tab asks for the session and gets the same CSRF token.
    const again = await call(temp.hub.url, '/v1/web/session', { cookie: session.cookie });
    expect(again.status).toBe(200);
    expect(again.body.csrfToken).toBe(session.csrf);
    expect(again.body.user).toEqual(session.body.user);
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    const { hub, ownerToken } = await hubWith({ publicUrl: 'https://gantry.example.test/' });
    const session = await signIn(hub.url, { token: ownerToken });
    expect(session.setCookie.split(';').map((a) => a.trim().toLowerCase())).toContain('secure');
    expect(hub.dashboardUrl).toBe('https://gantry.example.test/');
  });

  it('refuses agent keys, gateway tokens and access tokens with a clear message', async () => {
    const agent = await call(temp.hub.url, '/v1/agents', {
      json: { name: 'signer' },
      bearer: temp.ownerToken,
    });
    const key = agent.body.key as string;
    const connected = await call(temp.hub.url, '/v1/gateways/connect', {
      json: { name: 'gw-signer', provider: 'echo' },
      bearer: key,
    });
    expect(connected.status).toBe(200);
    const exchanged = await call(temp.hub.url, '/v1/auth/exchange', { json: {}, bearer: temp.ownerToken });
    for (const token of [key, connected.body.gatewayToken as string, exchanged.body.accessToken as string]) {
      const refused = await call(temp.hub.url, '/v1/web/session', { json: { token } });
      expect(refused.status).toBe(401);
      expect(refused.body.error?.message).toBe(
        'the dashboard takes a user token (gnt_u_...); agent keys and gateway tokens cannot sign in',
      );
      expect(refused.headers.getSetCookie()).toEqual([]);
    }
    const unknown = await call(temp.hub.url, '/v1/web/session', {
      json: { token: 'gnt_u_tok_0000000000.aaaaaaaaaaaaaaaaaaaaaaaa' },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error?.message).toBe('missing, unknown or revoked token');
  });

  it('answers 401 to GET /v1/web/session without a session', async () => {
    expect((await call(temp.hub.url, '/v1/web/session')).status).toBe(401);
    expect((await call(temp.hub.url, '/v1/web/session', { bearer: temp.ownerToken })).status).toBe(401);
    const bogus = await call(temp.hub.url, '/v1/me', { cookie: 'gantry_session=nonsense' });
    expect(bogus.status).toBe(401);
    // The dead cookie is cleared.
    expect(bogus.headers.getSetCookie().join()).toMatch(/gantry_session=;.*Max-Age=0/i);
  });
});

describe('CSRF', () => {
  it('refuses a cookie-authenticated change without the header or with a wrong one, and accepts the right one', async () => {
    const session = await signIn(temp.hub.url, { token: temp.ownerToken });
    const send = (csrf?: string) =>
      call(temp.hub.url, '/v1/messages', {
        json: { body: 'from the dashboard' },
        cookie: session.cookie,
        ...(csrf === undefined ? {} : { csrf }),
      });
    for (const refused of [await send(), await send('wrong'), await send('')]) {
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: { code: 'forbidden', message: 'missing or wrong CSRF token' } });
    }
    const accepted = await send(session.csrf);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ body: 'from the dashboard', author: { name: 'owner' } });
    // Another session's token does not fit this one.
    const other = await signIn(temp.hub.url, { token: temp.ownerToken });
    expect((await send(other.csrf)).status).toBe(403);
    // Reads need no CSRF token; bearer requests are unaffected.
    expect((await call(temp.hub.url, '/v1/messages', { cookie: session.cookie })).status).toBe(200);
    const bearer = await call(temp.hub.url, '/v1/messages', {
      json: { body: 'cli' },
      bearer: temp.ownerToken,
    });
    expect(bearer.status).toBe(201);
  });

  it('never turns a session into a bearer token', async () => {
    const session = await signIn(temp.hub.url, { token: temp.ownerToken });
    const exchanged = await call(temp.hub.url, '/v1/auth/exchange', {
      json: {},
      cookie: session.cookie,
      csrf: session.csrf,
    });
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.accessToken).toBeUndefined();
  });
});

describe('ending a session', () => {
  it('signs out: the cookie stops working and its open stream closes', async () => {
    const session = await signIn(temp.hub.url, { token: temp.ownerToken });
    const stream = openEvents(temp.hub.url, session.cookie);
    await until(() => stream.state.text.includes('event: ready'), 'the stream to start');
    expect(
      (await call(temp.hub.url, '/v1/web/session', { method: 'DELETE', cookie: session.cookie })).status,
    ).toBe(403);
    const out = await call(temp.hub.url, '/v1/web/session', {
      method: 'DELETE',
      cookie: session.cookie,
      csrf: session.csrf,
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join()).toMatch(/gantry_session=;.*Max-Age=0/i);
    await until(() => stream.state.ended, 'the stream to end');
    expect(stream.state.text).toContain('event: error');
    expect((await call(temp.hub.url, '/v1/me', { cookie: session.cookie })).status).toBe(401);
    expect((await call(temp.hub.url, '/v1/web/session', { cookie: session.cookie })).status).toBe(401);
  });

  it('ends at once when its user token is revoked: REST and an open SSE stream', async () => {
    const member = await addUser('rosa');
    const personal = await call(temp.hub.url, '/v1/tokens', { json: {}, bearer: member });
    const { token, secret } = personal.body as unknown as { token: { id: string }; secret: string };
    const session = await signIn(temp.hub.url, { token: secret });
    expect((await call(temp.hub.url, '/v1/me', { cookie: session.cookie })).status).toBe(200);
    const stream = openEvents(temp.hub.url, session.cookie);
    await until(() => stream.state.text.includes('event: ready'), 'the stream to start');

    const revoked = await call(temp.hub.url, `/v1/tokens/${token.id}/revoke`, { json: {}, bearer: member });
    expect(revoked.status).toBe(200);
    await until(() => stream.state.ended, 'the stream to end', 4000);
    expect(stream.state.text).toMatch(/event: error\ndata: .*token revoked/);
    const refused = await call(temp.hub.url, '/v1/me', { cookie: session.cookie });
    expect(refused.status).toBe(401);
    expect(refused.body.error?.message).toBe('not signed in, or the session ended: sign in again');
    // The member's other token (not the one signed in with) still works.
    expect((await call(temp.hub.url, '/v1/me', { bearer: member })).status).toBe(200);
  });

  it('ends when its user token expires, and says so in its expiresAt', async () => {
    const member = await addUser('tess');
    const personal = await call(temp.hub.url, '/v1/tokens', { json: { expiresInMs: 1500 }, bearer: member });
    const secret = (personal.body as { secret: string }).secret;
    const session = await signIn(temp.hub.url, { token: secret });
    expect(session.body.expiresAt as number).toBeLessThanOrEqual(Date.now() + 1500);
    expect((await call(temp.hub.url, '/v1/me', { cookie: session.cookie })).status).toBe(200);
    await until(
      async () => (await call(temp.hub.url, '/v1/me', { cookie: session.cookie })).status === 401,
      'the session to end with its token',
    );
  });

  it('ends when the user is removed from the workspace', async () => {
    const token = await addUser('gone');
    const session = await signIn(temp.hub.url, { token });
    const removed = await call(temp.hub.url, '/v1/users/gone', { method: 'DELETE', bearer: temp.ownerToken });
    expect(removed.status).toBe(200);
    expect((await call(temp.hub.url, '/v1/me', { cookie: session.cookie })).status).toBe(401);
  });

  it('ends when idle too long, and at its absolute end however busy', async () => {
    const idle = await hubWith({ sessionLimits: { idleMs: 300, maxAgeMs: 60_000 } });
    const quiet = await signIn(idle.hub.url, { token: idle.ownerToken });
    expect((await call(idle.hub.url, '/v1/me', { cookie: quiet.cookie })).status).toBe(200);
    await until(
      async () => (await call(idle.hub.url, '/v1/me', { cookie: quiet.cookie })).status === 401,
      'the idle session to end',
    );

    const short = await hubWith({ sessionLimits: { maxAgeMs: 400 } });
    const busy = await signIn(short.hub.url, { token: short.ownerToken });
    expect(busy.body.expiresAt).toBeLessThanOrEqual(Date.now() + 400);
    await until(
      async () => (await call(short.hub.url, '/v1/me', { cookie: busy.cookie })).status === 401,
      'the session to reach its end',
    );
  });
});

describe('one-time sign-in links', () => {
  it('signs in once; a second use is refused', async () => {
    const before = Date.now();
    const link = await call(temp.hub.url, '/v1/web/links', { json: {}, bearer: temp.ownerToken });
    expect(link.status).toBe(201);
    const url = link.body.url as string;
    expect(url).toMatch(new RegExp(`^${temp.hub.url}/signin#code=[\\w-]{40,}$`));
    // Valid for 60 s by default.
    expect(link.body.expiresAt as number).toBeGreaterThanOrEqual(before + 60_000);
    expect(link.body.expiresAt as number).toBeLessThanOrEqual(Date.now() + 60_000);

    const code = url.split('#code=')[1] ?? '';
    const session = await signIn(temp.hub.url, { code });
    expect(session.body.user).toMatchObject({ name: 'owner' });
    expect((await call(temp.hub.url, '/v1/me', { cookie: session.cookie })).status).toBe(200);
    const again = await call(temp.hub.url, '/v1/web/session', { json: { code } });
    expect(again.status).toBe(401);
    expect(again.body.error?.message).toBe(
      'this sign-in link was already used or has expired; run `gantry dashboard` for a new one',
    );
    expect((await call(temp.hub.url, '/v1/web/session', { json: { code: 'made-up' } })).status).toBe(401);
  });

  it('expires after its TTL', async () => {
    const { hub, ownerToken } = await hubWith({ sessionLimits: { linkTtlMs: 300 } });
    const link = await call(hub.url, '/v1/web/links', { json: {}, bearer: ownerToken });
    const code = (link.body.url as string).split('#code=')[1] ?? '';
    await until(() => Date.now() > (link.body.expiresAt as number), 'the link to expire');
    const late = await call(hub.url, '/v1/web/session', { json: { code } });
    expect(late.status).toBe(401);
    expect(late.body.error?.message).toContain('already used or has expired');
  });

  it('is made only for users, and dies with the token that asked for it', async () => {
    const agent = await call(temp.hub.url, '/v1/agents', {
      json: { name: 'linker' },
      bearer: temp.ownerToken,
    });
    const refused = await call(temp.hub.url, '/v1/web/links', { json: {}, bearer: agent.body.key as string });
    expect(refused.status).toBe(403);

    const member = await addUser('lena');
    const personal = await call(temp.hub.url, '/v1/tokens', { json: {}, bearer: member });
    const { token, secret } = personal.body as unknown as { token: { id: string }; secret: string };
    const link = await call(temp.hub.url, '/v1/web/links', { json: {}, bearer: secret });
    await call(temp.hub.url, `/v1/tokens/${token.id}/revoke`, { json: {}, bearer: member });
    const code = (link.body.url as string).split('#code=')[1] ?? '';
    expect((await call(temp.hub.url, '/v1/web/session', { json: { code } })).status).toBe(401);
  });
});

describe('on PostgreSQL', () => {
  const database = `gantry_test_${randomBytes(8).toString('hex')}`;
  let pg: { hub: RunningHub; ownerToken: string };
  beforeAll(async () => {
    await postgresAdmin(`create database ${database}`);
    pg = await hubWith({ db: `${postgresServer}/${database}` });
  });
  afterAll(async () => {
    await pg?.hub.close();
    await postgresAdmin(`drop database if exists ${database} with (force)`);
  });

  it('signs in with a token and a one-time link, checks CSRF, and ends with revocation and sign-out', async () => {
    const url = pg.hub.url;
    const session = await signIn(url, { token: pg.ownerToken });
    const me = await call(url, '/v1/me', { cookie: session.cookie });
    expect(me.body.principal).toMatchObject({ name: 'owner' });
    const message = { json: { body: 'pg' }, cookie: session.cookie };
    expect((await call(url, '/v1/messages', message)).status).toBe(403);
    expect((await call(url, '/v1/messages', { ...message, csrf: session.csrf })).status).toBe(201);

    const link = await call(url, '/v1/web/links', { json: {}, bearer: pg.ownerToken });
    const code = (link.body.url as string).split('#code=')[1] ?? '';
    // Two browsers racing with one code: exactly one wins.
    const raced = await Promise.all([1, 2, 3].map(() => call(url, '/v1/web/session', { json: { code } })));
    expect(raced.map((r) => r.status).sort()).toEqual([200, 401, 401]);

    const personal = await call(url, '/v1/tokens', { json: {}, bearer: pg.ownerToken });
    const { token, secret } = personal.body as unknown as { token: { id: string }; secret: string };
    const viaPersonal = await signIn(url, { token: secret });
    await call(url, `/v1/tokens/${token.id}/revoke`, { json: {}, bearer: pg.ownerToken });
    expect((await call(url, '/v1/me', { cookie: viaPersonal.cookie })).status).toBe(401);

    const out = await call(url, '/v1/web/session', {
      method: 'DELETE',
      cookie: session.cookie,
      csrf: session.csrf,
    });
    expect(out.status).toBe(204);
    expect((await call(url, '/v1/me', { cookie: session.cookie })).status).toBe(401);
  });
});
