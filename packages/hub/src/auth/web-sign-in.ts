/**
 * Signing in to the dashboard (no transport here): a user token or a one-time sign-in code opens a
 * browser session; sign-out ends it. Agent keys and gateway tokens never open one: the dashboard is
 * for people.
 */
import { randomBytes } from 'node:crypto';
import { GantryError, type SigninLink, type WebSession, type WebSignIn } from '@gantry/protocol';
import { authenticate, callerFromToken, type Caller } from './authenticate.ts';
import { parseToken, hashSecret } from './tokens.ts';
import { newSessionSecrets, type SessionLimits, type SessionSecrets } from './web-session.ts';
import type { Bus } from '../bus.ts';
import type { Store } from '../store/store.ts';

export interface WebSessionDeps {
  store: Store;
  bus: Bus;
  limits: SessionLimits;
}

export const userTokenOnly =
  'the dashboard takes a user token (gnt_u_...); agent keys and gateway tokens cannot sign in';
const codeUnusable =
  'this sign-in link was already used or has expired; run `gantry dashboard` for a new one';

export interface OpenedSession {
  caller: Caller;
  secrets: SessionSecrets;
  expiresAt: number;
}

/** Opens a session for the user a token or a sign-in code speaks for. */
export async function signIn(
  deps: WebSessionDeps,
  input: WebSignIn,
  now = Date.now(),
): Promise<OpenedSession> {
  const caller =
    'token' in input
      ? await userFromToken(deps.store, input.token, now)
      : await redeemCode(deps.store, input.code, now);
  const secrets = newSessionSecrets();
  const expiresAt = now + deps.limits.maxAgeMs;
  await deps.store.tokens.insertSession({
    id_hash: secrets.idHash,
    csrf_hash: secrets.csrfHash,
    token_id: caller.tokenId,
    workspace_id: caller.workspaceId,
    created_at: now,
    last_used_at: now,
    idle_expires_at: Math.min(now + deps.limits.idleMs, expiresAt),
    expires_at: expiresAt,
  });
  await deps.store.tokens.pruneSessions(now);
  return { caller: { ...caller, sessionId: secrets.idHash }, secrets, expiresAt };
}

/** Ends a session: its cookie stops working and streams opened with it close. */
export async function signOut(deps: Pick<WebSessionDeps, 'store' | 'bus'>, sessionId: string): Promise<void> {
  await deps.store.tokens.deleteSession(sessionId);
  deps.bus.emit('sessionEnded', { sessionIds: [sessionId] });
}

/** A link that signs its opener in as the caller (a user), once, within the link TTL. */
export async function createSigninLink(
  deps: WebSessionDeps,
  caller: Caller,
  baseUrl: string,
  now = Date.now(),
): Promise<SigninLink> {
  if (caller.kind !== 'user')
    throw new GantryError(
      'forbidden',
      `only a user can open the dashboard (you are ${caller.kind} ${caller.name})`,
    );
  const code = randomBytes(32).toString('base64url');
  const expiresAt = now + deps.limits.linkTtlMs;
  await deps.store.tokens.insertSigninCode({
    code_hash: hashSecret(code),
    token_id: caller.tokenId,
    created_at: now,
    expires_at: expiresAt,
    used_at: null,
  });
  // The code rides in the fragment: browsers never send it to a server or in a Referer.
  return { url: `${baseUrl}/signin#code=${code}`, expiresAt };
}

/** The session's body for the browser: who it is, where, and the CSRF token to send back. */
export async function sessionView(
  store: Store,
  caller: Caller,
  csrfToken: string,
  expiresAt: number,
): Promise<WebSession> {
  const workspace = await store.users.getWorkspace(caller.workspaceId);
  const token = await store.tokens.get(caller.tokenId);
  const tokenEnds = token?.expires_at ?? Infinity;
  return {
    user: { id: caller.id, name: caller.name, role: caller.role as WebSession['user']['role'] },
    workspace: { id: caller.workspaceId, name: workspace?.name ?? '' },
    csrfToken,
    expiresAt: Math.min(expiresAt, tokenEnds),
  };
}

async function userFromToken(store: Store, token: string, now: number): Promise<Caller> {
  // JWTs are refused too: a session must hang on a long-lived token a person can revoke.
  if (parseToken(token)?.kind !== 'user') throw new GantryError('unauthorized', userTokenOnly);
  return authenticate(store, token, now);
}

/** Marks a code used (compare-and-set, so two uses cannot both win) and returns whom it signs in. */
async function redeemCode(store: Store, code: string, now: number): Promise<Caller> {
  const tokenId = await store.tokens.useSigninCode(hashSecret(code), now);
  if (tokenId === undefined) throw new GantryError('unauthorized', codeUnusable);
  const token = await store.tokens.get(tokenId);
  if (!token || token.kind !== 'user') throw new GantryError('unauthorized', codeUnusable);
  return callerFromToken(store, token, now);
}
