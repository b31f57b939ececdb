/**
 * `createHub()` builds the hub without listening: its REST API answers `app.request()` with no port,
 * the two public routes (health, dashboard sign-in) need no credential and every other `/v1` route
 * does, whatever order the resource routers are mounted in; `stop()` ends it once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

let temp: InProcessHub;

beforeAll(async () => {
  temp = await createTempHub('gantry-create-hub-');
});
afterAll(() => temp?.stop());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('createHub', () => {
  it('answers the REST API in-process, with no port', async () => {
    const health = await temp.request('/v1/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, store: 'sqlite' });
    const me = await temp.request('/v1/me', { headers: bearer(temp.ownerToken) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ principal: { kind: 'user', name: 'owner', role: 'owner' } });
    // Nothing listens: the dashboard's address has no port to name.
    expect(temp.hub.ctx.web.baseUrl()).toBe('');
  });

  it('serves health and dashboard sign-in without a credential, and nothing else', async () => {
    expect((await temp.request('/v1/health', { method: 'HEAD' })).status).toBe(200);
    const signIn = await temp.request('/v1/web/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: temp.ownerToken }),
    });
    expect(signIn.status).toBe(200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/=/);
    // The session it opened is read at the same prefix, and needs that session.
    expect((await temp.request('/v1/web/session', { headers: { cookie } })).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/v1/web/session'],
      ['POST', '/v1/health'],
      ['GET', '/v1/health/'],
      ['GET', '/v1/agents'],
      ['GET', '/v1/agents/reachability'],
      ['GET', '/v1/templates'],
      ['GET', '/v1/gateways'],
      ['GET', '/v1/audit'],
      ['GET', '/v1/inbox'],
      ['GET', '/v1/messages'],
      ['GET', '/v1/events'],
      ['GET', '/v1/nothing-here'],
    ] as const) {
      const res = await temp.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
  });

  it('stops once: a second stop is the first one', async () => {
    const other = await createTempHub('gantry-create-hub-stop-');
    const first = other.hub.stop();
    expect(other.hub.stop()).toBe(first);
    await other.stop();
  });
});
