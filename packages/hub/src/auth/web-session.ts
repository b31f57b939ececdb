/**
 * The dashboard's browser sessions: a random cookie secret maps (by its SHA-256) to a row naming the
 * user token it was signed in with, so the session acts as that token's user and lives only while
 * that token does. The CSRF token is an HMAC of the cookie secret: every tab of one session gets the
 * same value from `GET /v1/web/session`, yet the store keeps only its hash.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GantryError } from '@gantry/protocol';
import type { WebSessionTable as WebSessionRow } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { callerFromToken, type Caller } from './authenticate.ts';
import { hashSecret } from './tokens.ts';

/** How long sessions and sign-in links live (see README, "Dashboard"). */
export interface SessionLimits {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, however busy. */
  maxAgeMs: number;
  /** A one-time sign-in link works this long. */
  linkTtlMs: number;
}

export const defaultSessionLimits: SessionLimits = {
  idleMs: 12 * 60 * 60 * 1000,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  linkTtlMs: 60_000,
};

/** Last-use writes are coarse, like tokens': a write per request would cost more than it tells. */
const touchEveryMs = 60_000;

export const sessionEnded = () =>
  new GantryError('unauthorized', 'not signed in, or the session ended: sign in again');

export interface SessionSecrets {
  /** The cookie's value. */
  secret: string;
  idHash: string;
  csrfToken: string;
  csrfHash: string;
}

export function newSessionSecrets(): SessionSecrets {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = csrfTokenFor(secret);
  return { secret, idHash: hashSecret(secret), csrfToken, csrfHash: hashSecret(csrfToken) };
}

export function csrfTokenFor(secret: string): string {
  return createHmac('sha256', secret).update('gantry csrf').digest('base64url');
}

export function csrfMatches(csrfHash: string, header: string | undefined): boolean {
  if (!header) return false;
  const a = Buffer.from(hashSecret(header), 'hex');
  const b = Buffer.from(csrfHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** When a session ends if nothing else ends it first. */
export function sessionDeadline(row: Pick<WebSessionRow, 'idle_expires_at' | 'expires_at'>): number {
  return Math.min(row.idle_expires_at, row.expires_at);
}

/** The session a cookie names, as its user (the token's checks included); 401 when there is none. */
export async function authenticateSession(
  store: Store,
  secret: string,
  limits: SessionLimits,
  now = Date.now(),
): Promise<{ caller: Caller; session: WebSessionRow }> {
  const session = await store.tokens.session(hashSecret(secret));
  if (!session || sessionDeadline(session) <= now) throw sessionEnded();
  const token = await store.tokens.get(session.token_id);
  if (!token || token.kind !== 'user' || token.workspace_id !== session.workspace_id) throw sessionEnded();
  // A revoked or expired token, or a removed membership, ends the session with it.
  const caller = await callerFromToken(store, token, now).catch(() => {
    throw sessionEnded();
  });
  if (now - session.last_used_at > touchEveryMs) {
    const idleExpiresAt = Math.min(now + limits.idleMs, session.expires_at);
    await store.tokens.touchSession(session.id_hash, now, idleExpiresAt);
  }
  return { caller: { ...caller, sessionId: session.id_hash }, session };
}

/** Whether a session still stands (not signed out, not past its idle or absolute end). */
export async function sessionAlive(store: Store, sessionId: string, now = Date.now()): Promise<boolean> {
  const row = await store.tokens.session(sessionId);
  return row !== undefined && sessionDeadline(row) > now;
}
