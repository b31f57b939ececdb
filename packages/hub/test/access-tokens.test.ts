/**
 * Access tokens (auth/jwt.ts): the signing key is imported once per store and reused, and tokens
 * stay interchangeable with any signer holding the same stored key bytes (another hub on the same
 * database), while a token signed with another key is refused.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken, signingKey, verifyAccessToken } from '../src/auth/jwt.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';

let store: Store;
beforeAll(async () => {
  store = await openStore(':memory:');
});
afterAll(() => store?.close());

const claims = { sub: 'gw_1', kind: 'gateway' as const, workspaceId: 'ws_1', tokenId: 'tok_1' };

function signWith(key: Uint8Array, now = Date.now()): Promise<string> {
  return new SignJWT({ kind: 'gateway', ws: 'ws_1', tid: 'tok_1' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('gantry-hub')
    .setSubject('gw_1')
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + 600)
    .sign(key);
}

describe('access tokens', () => {
  it('import the signing key once per store and reuse it', async () => {
    const first = await signingKey(store);
    const { accessToken } = await signAccessToken(store, claims);
    await verifyAccessToken(store, accessToken);
    expect(await signingKey(store)).toBe(first);
    expect(first.extractable).toBe(false);
    expect(first.algorithm).toMatchObject({ name: 'HMAC' });
  });

  it('verify a token signed with the stored key bytes by another signer', async () => {
    await signingKey(store);
    const raw = Buffer.from((await store.meta.get('jwt_signing_key')) ?? '', 'base64url');
    expect(raw.length).toBe(32);
    expect(await verifyAccessToken(store, await signWith(raw))).toEqual(claims);
  });

  it('refuse a token signed with another key', async () => {
    await expect(verifyAccessToken(store, await signWith(randomBytes(32)))).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'invalid access token',
    });
  });
});
