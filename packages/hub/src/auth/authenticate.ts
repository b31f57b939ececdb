/** Resolves a bearer token to the principal it speaks for. */
import { GantryError, type Principal } from '@gantry/protocol';
import type { Store, TokenRow, TokenWithOwner } from '../store/store.ts';
import type { Actor } from '../domain/actor.ts';
import { isAccessToken, verifyAccessToken } from './jwt.ts';
import { runOf } from './run-tokens.ts';
import { mintToken, parseToken, secretMatches, type TokenKind } from './tokens.ts';

/** Who a request speaks for, and the credential it proved that with. */
export interface Caller extends Actor {
  tokenId: string;
  /** Set when a browser session (the dashboard's cookie) made the request: `web_sessions.id_hash`. */
  sessionId?: string;
  /** When the token stops working (null: never), as its row said when this request was authenticated. */
  tokenExpiresAt?: number | null;
  /**
   * The hub's count of revocations heard (`revocationsHeardOn`) taken before the token's row was read:
   * a long-poll whose count has not moved since needs no second read of the row (`watchToken`).
   */
  revocationsHeard?: number;
}

const unauthorized = () => new GantryError('unauthorized', 'missing, unknown or revoked token');

export async function authenticate(
  store: Store,
  token: string | undefined,
  now = Date.now(),
): Promise<Caller> {
  if (token && isAccessToken(token)) return authenticateAccessToken(store, token, now);
  const parsed = token ? parseToken(token) : undefined;
  if (!parsed) throw unauthorized();
  const row = await store.tokens.withOwner(parsed.id);
  if (!row || row.kind !== parsed.kind || !secretMatches(parsed.secret, row.secret_hash))
    throw unauthorized();
  return callerFromToken(store, row, now, ownerOf(row));
}

/** A JWT from `POST /v1/auth/exchange`: valid only while the long-lived token it names is. */
async function authenticateAccessToken(store: Store, token: string, now: number): Promise<Caller> {
  const claims = await verifyAccessToken(store, token, now);
  const row = await store.tokens.withOwner(claims.tokenId);
  if (
    !row ||
    row.kind !== claims.kind ||
    row.owner_id !== claims.sub ||
    row.workspace_id !== claims.workspaceId
  )
    throw unauthorized();
  return callerFromToken(store, row, now, ownerOf(row));
}

/**
 * The checks every credential passes through its long-lived token's row; `owner` when the row was
 * read with its owner (`tokens.withOwner`: null, the owner is gone), else it is read here.
 */
export async function callerFromToken(
  store: Store,
  row: TokenRow,
  now: number,
  owner?: Principal | null,
): Promise<Caller> {
  if (row.revoked_at !== null) throw unauthorized();
  if (row.expires_at !== null && row.expires_at <= now) {
    throw new GantryError('unauthorized', 'token expired');
  }
  // Recording use is best effort and coarse: once a minute is plenty for "last used".
  if (row.last_used_at === null || now - row.last_used_at > 60_000) await store.tokens.touch(row.id, now);
  const principal =
    owner === undefined ? await resolveOwner(store, row.kind as TokenKind, row.owner_id) : owner;
  if (!principal) throw unauthorized();
  // A run token speaks as its agent, in its run (checked live: a run that ended has no say).
  const run = row.kind === 'run' ? { run: await runOf(store, row) } : {};
  return {
    ...principal,
    workspaceId: row.workspace_id,
    tokenId: row.id,
    tokenExpiresAt: row.expires_at,
    ...run,
  };
}

/** The principal of a token read with its owner; null when the owner is gone. */
function ownerOf(row: TokenWithOwner): Principal | null {
  if (row.owner_name === null) return null;
  const kind = row.kind as TokenKind;
  if (kind === 'user') return { kind, id: row.owner_id, name: row.owner_name, role: row.owner_role };
  if (kind === 'gateway') return { kind, id: row.owner_id, name: row.owner_name, role: null };
  return { kind: 'agent', id: row.owner_id, name: row.owner_name, role: null };
}

async function resolveOwner(store: Store, kind: TokenKind, ownerId: string): Promise<Principal | undefined> {
  if (kind === 'user') {
    const user = await store.users.get(ownerId);
    return user && { kind, id: user.id, name: user.handle, role: user.role };
  }
  if (kind === 'agent' || kind === 'run') {
    const agent = await store.agents.get(ownerId);
    return agent && { kind: 'agent', id: agent.id, name: agent.name, role: null };
  }
  const gateway = await store.gateways.get(ownerId);
  return gateway && { kind, id: gateway.id, name: gateway.name, role: null };
}

/** Mints a token for a principal and stores its hash; returns the token text, shown once. */
export async function issueToken(
  store: Store,
  kind: TokenKind,
  ownerId: string,
  workspaceId: string,
  now = Date.now(),
  expiresAt: number | null = null,
): Promise<string> {
  const minted = mintToken(kind);
  await store.tokens.insert({
    id: minted.id,
    kind,
    owner_id: ownerId,
    workspace_id: workspaceId,
    secret_hash: minted.secretHash,
    created_at: now,
    expires_at: expiresAt,
    last_used_at: null,
    revoked_at: null,
    assignment_id: null,
  });
  return minted.token;
}

export function requireUser(caller: Actor): void {
  if (caller.kind !== 'user')
    throw new GantryError('forbidden', `only a user can do this (you are ${caller.kind} ${caller.name})`);
}
