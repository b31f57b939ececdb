/**
 * Tokens as a resource (DESIGN §5): a user mints personal tokens (optionally expiring), lists its
 * own (an owner or admin: every token of the workspace), revokes them; an owner or admin rotates
 * an agent's key. A revocation is published on the bus, so open connections made with the token
 * end at once (auth/revocation.ts).
 */
import { GantryError, type RotatedKey, type RotateKey, type TokenInfo } from '@gantry/protocol';
import { issueToken } from '../auth/authenticate.ts';
import type { Actor } from './actor.ts';
import { hasRole, requireMayManage, requireRole, type Role } from '../auth/roles.ts';
import { mintToken, type TokenKind } from '../auth/tokens.ts';
import type { Bus } from '../bus.ts';
import type { Links } from '../dispatch/links.ts';
import type { Store, TokenRow } from '../store/store.ts';
import { findAgentOrThrow } from './agents.ts';
import type { GatewayRelay } from './gateway-relay.ts';

export interface TokenDeps {
  store: Store;
  bus: Bus;
  /** Connected gateways, told a rotated agent key (absent in tests that have none). */
  links?: Links;
  /** How a gateway connected to another hub of the system is told a rotated key. */
  relay?: GatewayRelay;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `currentTokenId`: the token the request was made with, marked `current`. */
export async function listTokens(store: Store, caller: Actor, currentTokenId?: string): Promise<TokenInfo[]> {
  requireRole(caller, 'member', 'list tokens');
  const rows = await store.tokens.list(caller.workspaceId, hasRole(caller, 'admin') ? undefined : caller.id);
  const names = await store.tokens.ownerNames(caller.workspaceId);
  return rows.map((row) => tokenView(row, names, currentTokenId));
}

/** A new personal token for the caller, shown once. */
export async function createToken(
  store: Store,
  caller: Actor,
  input: { expiresInMs?: number },
): Promise<{ token: TokenInfo; secret: string }> {
  requireRole(caller, 'member', 'mint tokens');
  const now = Date.now();
  const minted = mintToken('user');
  const row: TokenRow = {
    id: minted.id,
    kind: 'user',
    owner_id: caller.id,
    workspace_id: caller.workspaceId,
    secret_hash: minted.secretHash,
    created_at: now,
    expires_at: input.expiresInMs === undefined ? null : now + input.expiresInMs,
    last_used_at: null,
    revoked_at: null,
    assignment_id: null,
  };
  await store.tokens.insert(row);
  await store.audit.record({
    workspaceId: caller.workspaceId,
    actor: `user:${caller.id}`,
    action: 'token_created',
    subject: row.id,
    data: { kind: 'user', expiresAt: iso(row.expires_at) },
  });
  const names = new Map([[caller.id, caller.name]]);
  return { token: tokenView(row, names), secret: minted.token };
}

/**
 * Revokes a token: the caller's own, or (owner or admin) any of the workspace's. Idempotent.
 * `currentTokenId`: the token the request was made with, marked `current`.
 */
export async function revokeToken(
  deps: TokenDeps,
  caller: Actor,
  id: string,
  currentTokenId?: string,
): Promise<TokenInfo> {
  requireRole(caller, 'member', 'revoke tokens');
  const row = await deps.store.tokens.get(id);
  if (!row || row.workspace_id !== caller.workspaceId) throw new GantryError('not_found', `no token ${id}`);
  const own = row.kind === 'user' && row.owner_id === caller.id;
  if (!own) {
    const ownerRole =
      row.kind === 'user' ? ((await deps.store.users.get(row.owner_id))?.role as Role) : 'member';
    if (!hasRole(caller, 'admin')) {
      // A member learns nothing about tokens that are not its own.
      throw new GantryError('not_found', `no token ${id}`);
    }
    requireMayManage(caller, ownerRole ?? 'member', "revoke an owner's token");
  }
  if (row.revoked_at === null) {
    await revokeWhere(deps, { id: row.id });
    await deps.store.audit.record({
      workspaceId: caller.workspaceId,
      actor: `user:${caller.id}`,
      action: 'token_revoked',
      subject: row.id,
      data: { kind: row.kind, ownerId: row.owner_id },
    });
  }
  const names = await deps.store.tokens.ownerNames(caller.workspaceId);
  return tokenView((await deps.store.tokens.get(id)) ?? row, names, currentTokenId);
}

/** A new key for an agent; every key it had before is revoked. Gateway tokens are not touched. */
export async function rotateAgentKey(
  deps: TokenDeps,
  caller: Actor,
  ref: string,
  input: RotateKey = {},
): Promise<RotatedKey> {
  requireRole(caller, 'admin', 'rotate agent keys');
  const agent = await findAgentOrThrow(deps.store, caller, ref);
  const now = Date.now();
  const expiresAt = input.expiresInMs === undefined ? null : now + input.expiresInMs;
  const revoked = await revokeWhere(deps, { ownerId: agent.id, kind: 'agent' }, now);
  const key = await issueToken(deps.store, 'agent', agent.id, caller.workspaceId, now, expiresAt);
  await deps.store.audit.record({
    workspaceId: caller.workspaceId,
    actor: `user:${caller.id}`,
    action: 'agent_key_rotated',
    subject: agent.id,
    data: { agent: agent.name, revoked, expiresAt: iso(expiresAt) },
  });
  // Gateways serving the agent hold the new key from now on: nobody else needs to see it.
  const gateways: string[] = [];
  for (const link of deps.links?.all() ?? []) {
    if (!link.agents.has(agent.id)) continue;
    link.send({ t: 'rekey', agentId: agent.id, key });
    gateways.push(link.name);
  }
  gateways.push(...(await rekeyElsewhere(deps, agent.id, key)));
  const shown = gateways.length === 0 || input.printKey === true;
  return {
    agent: { id: agent.id, name: agent.name },
    key: shown ? key : null,
    expiresAt: iso(expiresAt),
    gateways,
    revoked,
  };
}

/**
 * Hands the key to the agent's gateways connected to other hubs of the system (through the store,
 * never the bus: gateway-relay.ts); returns the names of those whose hub sent it.
 */
async function rekeyElsewhere(deps: TokenDeps, agentId: string, key: string): Promise<string[]> {
  const relay = deps.relay;
  if (!relay) return [];
  const elsewhere = (await deps.store.gateways.ofAgents([agentId])).filter(
    (g) => g.connected === 1 && !deps.links?.isConnected(g.id),
  );
  const sent = await Promise.all(
    elsewhere.map((g) => relay.send(g.id, { t: 'rekey', agentId, key }).then((ok) => (ok ? g.name : ''))),
  );
  return sent.filter((name) => name !== '');
}

/** Revokes the matching live tokens and tells open connections; returns their ids. */
export async function revokeWhere(
  deps: TokenDeps,
  match: { id: string } | { ownerId: string; kind: TokenKind },
  now = Date.now(),
): Promise<string[]> {
  const ids = await deps.store.tokens.live(match);
  if (ids.length === 0) return [];
  await deps.store.tokens.revoke(ids, now);
  deps.bus.emit('revoked', { tokenIds: ids });
  return ids;
}

function tokenView(row: TokenRow, names: Map<string, string>, currentTokenId?: string): TokenInfo {
  return {
    id: row.id,
    kind: row.kind as TokenInfo['kind'],
    owner: names.get(row.owner_id) ?? '(removed)',
    ownerId: row.owner_id,
    createdAt: iso(row.created_at) as string,
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revoked: row.revoked_at !== null,
    revokedAt: iso(row.revoked_at),
    current: row.id === currentTokenId,
  };
}
