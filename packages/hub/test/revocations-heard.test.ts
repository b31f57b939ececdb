/**
 * A long-poll's first look at its token: a request authenticated with no revocation heard since
 * starts watching without reading the token again, and still ends at the token's expiry; one with a
 * revocation heard in between (or a bus gap) reads again and ends if its token was revoked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revocationsHeardOn, watchToken } from '../src/auth/revocation.ts';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

let temp: InProcessHub;

beforeAll(async () => {
  temp = await createTempHub('gantry-heard-');
});
afterAll(() => temp?.stop());

/** A new user token of the workspace, as its id. */
async function newToken(): Promise<string> {
  const res = await temp.request('/v1/tokens', {
    method: 'POST',
    headers: { authorization: `Bearer ${temp.ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({}),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: { id: string } }).token.id;
}

function watch(caller: Parameters<typeof watchToken>[1]): Promise<string> {
  return new Promise((resolve) => watchToken(temp.hub.ctx, caller, resolve));
}

const soon = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve('still open'), ms));

describe('a watch of a request just authenticated', () => {
  it('reads the token again once a revocation was heard since, and ends if it was revoked', async () => {
    const { store, bus } = temp.hub.ctx;
    const tokenId = await newToken();
    const heard = revocationsHeardOn(bus);
    // Revoked after the request read its row: the notice is heard before the watch starts.
    await store.tokens.revoke([tokenId]);
    bus.emit('revoked', { tokenIds: [tokenId] });
    expect(revocationsHeardOn(bus)).toBe(heard + 1);
    const watched = watch({ tokenId, tokenExpiresAt: null, revocationsHeard: heard });
    expect(await Promise.race([watched, soon(2000)])).toBe('token revoked');
  });

  it('trusts the row it was authenticated with while nothing was heard, and ends at its expiry', async () => {
    const { store, bus } = temp.hub.ctx;
    const tokenId = await newToken();
    const heard = revocationsHeardOn(bus);
    // Revoked in the store alone (no notice): only a read would see it, and none is made at once.
    await store.tokens.revoke([tokenId]);
    let ended: string | undefined;
    const stop = watchToken(
      temp.hub.ctx,
      { tokenId, tokenExpiresAt: null, revocationsHeard: heard },
      (why) => {
        ended = why;
      },
    );
    await soon(200);
    stop();
    expect(ended).toBeUndefined();
    // Its expiry, as its row said at authentication, ends it on time.
    const expiring = await newToken();
    const at = Date.now() + 150;
    expect(await watch({ tokenId: expiring, tokenExpiresAt: at, revocationsHeard: heard })).toBe(
      'token expired',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(at);
  });

  it('reads the token at once without a count (a gateway socket, a dashboard session)', async () => {
    const { store } = temp.hub.ctx;
    const tokenId = await newToken();
    await store.tokens.revoke([tokenId]);
    expect(await Promise.race([watch({ tokenId }), soon(2000)])).toBe('token revoked');
  });
});
