/**
 * Short-lived access tokens (DESIGN §5): a long-lived token is exchanged for an HS256 JWT whose
 * `tid` names that token, so revoking or expiring it ends its access tokens too. The signing key
 * lives in the store's meta table: it survives restarts and every hub on one database shares it.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { GantryError } from '@gantry/protocol';
import type { Store } from '../store/store.ts';
import type { TokenKind } from './tokens.ts';

export const accessTokenTtlMs = 15 * 60_000;
/** The longest lifetime (`exp - iat`) a token may claim: what the exchange hands out. */
export const maxAccessTokenLifetimeMs = accessTokenTtlMs;
/** How far ahead of this hub's clock another hub sharing the key may have issued a token. */
export const issuedAtSkewMs = 60_000;
const signingKeyMeta = 'jwt_signing_key';
const issuer = 'gantry-hub';
const kinds: readonly string[] = ['user', 'agent', 'gateway'] satisfies TokenKind[];

export interface AccessClaims {
  /** The principal's id. */
  sub: string;
  kind: TokenKind;
  workspaceId: string;
  /** The long-lived token it was exchanged for. */
  tokenId: string;
}

/** A JWT is three base64url parts; long-lived tokens start with `gnt_`. */
export function isAccessToken(token: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(token);
}

const keys = new WeakMap<Store, Promise<webcrypto.CryptoKey>>();

/**
 * The store's signing key, made on first use; cached per store (a failed read is retried later)
 * as an imported key: handing jose the raw bytes imports them again on every sign and verify,
 * which cost more than the HMAC itself (each gateway's exchange and hello pays it).
 */
export function signingKey(store: Store): Promise<webcrypto.CryptoKey> {
  let key = keys.get(store);
  if (!key) {
    key = loadOrCreateKey(store).then((raw) =>
      webcrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    );
    key.catch(() => keys.delete(store));
    keys.set(store, key);
  }
  return key;
}

async function loadOrCreateKey(store: Store): Promise<Uint8Array> {
  const existing = await store.meta.get(signingKeyMeta);
  if (existing) return Buffer.from(existing, 'base64url');
  // Two hubs starting at once on one database: the first insert wins and both read it back.
  const stored = await store.meta.setOnce(signingKeyMeta, randomBytes(32).toString('base64url'));
  return Buffer.from(stored, 'base64url');
}

export async function signAccessToken(
  store: Store,
  claims: AccessClaims,
  now = Date.now(),
  ttlMs = accessTokenTtlMs,
): Promise<{ accessToken: string; expiresAt: number }> {
  const expiresAt = now + ttlMs;
  const accessToken = await new SignJWT({ kind: claims.kind, ws: claims.workspaceId, tid: claims.tokenId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(claims.sub)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(await signingKey(store));
  return { accessToken, expiresAt: Math.floor(expiresAt / 1000) * 1000 };
}

/**
 * Checks signature, issuer, expiry and issue time (both required; no lifetime over the maximum, no
 * issue time in the future beyond the skew); the caller still checks the parent token's row.
 */
export async function verifyAccessToken(
  store: Store,
  token: string,
  now = Date.now(),
): Promise<AccessClaims> {
  const key = await signingKey(store);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer,
      requiredClaims: ['exp', 'iat'],
      currentDate: new Date(now),
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new GantryError('unauthorized', 'access token expired');
    throw new GantryError('unauthorized', 'invalid access token');
  }
  // Both are numbers here: jose checked them.
  const iat = (payload.iat as number) * 1000;
  const exp = (payload.exp as number) * 1000;
  if (exp - iat > maxAccessTokenLifetimeMs)
    throw new GantryError(
      'unauthorized',
      'invalid access token: its lifetime is longer than this hub allows',
    );
  if (iat > now + issuedAtSkewMs)
    throw new GantryError('unauthorized', 'invalid access token: it is issued in the future');
  const { sub, kind, ws, tid } = payload;
  if (
    typeof sub !== 'string' ||
    typeof ws !== 'string' ||
    typeof tid !== 'string' ||
    !kinds.includes(kind as string)
  )
    throw new GantryError('unauthorized', 'invalid access token');
  return { sub, kind: kind as TokenKind, workspaceId: ws, tokenId: tid };
}
