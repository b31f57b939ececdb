/**
 * The CLI's short-lived access tokens (DESIGN §5): the long-lived token is exchanged at
 * `POST /v1/auth/exchange` and the JWT is cached in the config folder (0600), keyed by hub URL and
 * token id, so the long-lived token travels only on that call. It is renewed when less than a
 * minute is left. A hub without the route (an older one) gets the long-lived token itself.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as z from 'zod/mini';
import type { AccessToken } from '@gantry/protocol';
import { gantryPaths, readJsonFile, writeSecretJson } from '@gantry/protocol/node';

/** Renew an access token with less than this left, so none expires on the way to the hub. */
export const refreshBeforeMs = 60_000;

const entrySchema = z.object({
  accessToken: z.string(),
  expiresAt: z.number(),
  tokenId: z.string(),
  /** A hash of the long-lived token, so a different secret under the same id is not served. */
  tokenHash: z.string(),
});
const cacheSchema = z.object({ entries: z.record(z.string(), entrySchema) });
type Cache = z.infer<typeof cacheSchema>;
export type CachedAccessToken = z.infer<typeof entrySchema>;

export interface Bearer {
  token: string;
  /** Taken from the cache (not just minted): worth one retry with a fresh one if refused. */
  cached: boolean;
}

/** Exchanges the long-lived token; `undefined` when the hub has no exchange route. */
export type Exchange = () => Promise<AccessToken | undefined>;

export function accessTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(gantryPaths(env).config, 'access-token.json');
}

/** The id of a long-lived token (`gnt_u_<id>.<secret>`): not a secret, fine to show. */
export function longLivedTokenId(token: string): string | undefined {
  return /^gnt_[uag]_([a-z0-9_]{8,64})\./.exec(token)?.[1];
}

/** `gnt_u_<id>` without the secret: how a token may be named in output. */
export function tokenLabel(token: string): string {
  const match = /^(gnt_[uagr]_[a-z0-9_]{8,64})\./.exec(token);
  return match ? `${match[1]}.…` : isJwt(token) ? 'an access token (JWT)' : 'an unrecognised token';
}

function isJwt(token: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(token);
}

function keyOf(url: string, tokenId: string): string {
  return `${url} ${tokenId}`;
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The cache file's contents; a damaged file counts as empty (it is only a cache). */
export function readAccessTokenCache(): Cache {
  try {
    return readJsonFile(accessTokenFile(), cacheSchema) ?? { entries: {} };
  } catch {
    return { entries: {} };
  }
}

/** The cached access token for this hub and long-lived token, whatever its age. */
export function cachedAccessToken(url: string, token: string): CachedAccessToken | undefined {
  const tokenId = longLivedTokenId(token);
  if (!tokenId) return undefined;
  const entry = readAccessTokenCache().entries[keyOf(url, tokenId)];
  return entry && entry.tokenHash === hashOf(token) ? entry : undefined;
}

/** The bearer to send: a cached or freshly exchanged access token, else the token itself. */
export async function bearerFor(
  url: string,
  token: string,
  exchange: Exchange,
  now = Date.now(),
): Promise<Bearer & { expiresAt?: number }> {
  const tokenId = longLivedTokenId(token);
  // Not a long-lived token (an access token given directly, say): sent as it is.
  if (!tokenId) return { token, cached: false };
  const cached = cachedAccessToken(url, token);
  if (cached && cached.expiresAt - now > refreshBeforeMs)
    return { token: cached.accessToken, cached: true, expiresAt: cached.expiresAt };
  const fresh = await exchange();
  if (!fresh) return { token, cached: false };
  updateCache((entries) => {
    entries[keyOf(url, tokenId)] = { ...fresh, tokenHash: hashOf(token) };
    // Expired entries are of no use to anyone: drop them while writing anyway.
    for (const [key, entry] of Object.entries(entries)) if (entry.expiresAt <= now) delete entries[key];
  });
  return { token: fresh.accessToken, cached: false, expiresAt: fresh.expiresAt };
}

/** Drops the cached access token for this hub and token (the hub refused it). */
export function forgetAccessToken(url: string, token: string): void {
  const tokenId = longLivedTokenId(token);
  if (!tokenId) return;
  updateCache((entries) => delete entries[keyOf(url, tokenId)]);
}

function updateCache(change: (entries: Cache['entries']) => void): void {
  const cache = readAccessTokenCache();
  change(cache.entries);
  writeSecretJson(accessTokenFile(), cache);
}
