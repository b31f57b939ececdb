/**
 * Credentials, hashes only: long-lived tokens, and the dashboard's browser sessions and one-time
 * sign-in codes that hang on a user token.
 */
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { TokenTable, WebSessionTable, WebSigninCodeTable } from './schema.ts';

export type TokenRow = TokenTable;
export type WebSessionRow = WebSessionTable;

/** A token with what its owner is called (null when the owner is gone): what authenticating needs. */
export type TokenWithOwner = TokenRow & {
  /** The user's handle, the agent's or gateway's name. */
  owner_name: string | null;
  /** A user's role (null for agents and gateways). */
  owner_role: string | null;
};

const byId = prepared((db, a: { id: string }) => db.selectFrom('tokens').selectAll().where('id', '=', a.id));
// Each kind's owner in its own table (a run token's is its agent): one read instead of two.
const withOwnerById = prepared((db, a: { id: string }) =>
  db
    .selectFrom('tokens as t')
    .leftJoin('users as u', (join) => join.onRef('u.id', '=', 't.owner_id').on('t.kind', '=', 'user'))
    .leftJoin('agents as a', (join) =>
      join.onRef('a.id', '=', 't.owner_id').on('t.kind', 'in', ['agent', 'run']),
    )
    .leftJoin('gateways as g', (join) => join.onRef('g.id', '=', 't.owner_id').on('t.kind', '=', 'gateway'))
    .selectAll('t')
    .select((eb) => [eb.fn.coalesce('u.handle', 'a.name', 'g.name').as('owner_name'), 'u.role as owner_role'])
    .where('t.id', '=', a.id),
);

export class TokenRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  async insert(row: TokenRow): Promise<void> {
    await this.db.insertInto('tokens').values(row).execute();
  }

  get(id: string): Promise<TokenRow | undefined> {
    return byId.first(this.db, this.kind, { id });
  }

  /** A token and its owner's name (and a user's role) in one read. */
  withOwner(id: string): Promise<TokenWithOwner | undefined> {
    return withOwnerById.first(this.db, this.kind, { id }) as Promise<TokenWithOwner | undefined>;
  }

  /**
   * Whether each of many tokens is still good (revoked, expiry), read in a few statements of at
   * most 500 ids: one re-check of every open connection's token. Unknown ids are left out.
   */
  async states(ids: string[]): Promise<Pick<TokenRow, 'id' | 'revoked_at' | 'expires_at'>[]> {
    const rows: Pick<TokenRow, 'id' | 'revoked_at' | 'expires_at'>[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      rows.push(
        ...(await this.db
          .selectFrom('tokens')
          .select(['id', 'revoked_at', 'expires_at'])
          .where('id', 'in', ids.slice(i, i + 500))
          .execute()),
      );
    }
    return rows;
  }

  async touch(id: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  /** A workspace's tokens, oldest first; with `userId`, only that user's own. Run tokens are the runs' own. */
  list(workspaceId: string, userId?: string): Promise<TokenRow[]> {
    let query = this.db
      .selectFrom('tokens')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('kind', '!=', 'run');
    if (userId !== undefined) query = query.where('kind', '=', 'user').where('owner_id', '=', userId);
    return query.orderBy('created_at').orderBy('id').execute();
  }

  /** Ids of the live tokens: one by id, or a principal's of a kind. */
  async live(match: { id: string } | { ownerId: string; kind: string }): Promise<string[]> {
    let query = this.db.selectFrom('tokens').select('id').where('revoked_at', 'is', null);
    query =
      'id' in match
        ? query.where('id', '=', match.id)
        : query.where('owner_id', '=', match.ownerId).where('kind', '=', match.kind);
    return (await query.execute()).map((r) => r.id);
  }

  /** Revokes those of `ids` still live. */
  async revoke(ids: string[], now = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('id', 'in', ids)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Revokes the live run tokens of an assignment; returns their ids. */
  async revokeRun(assignmentId: string, now = Date.now()): Promise<string[]> {
    const rows = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('assignment_id', '=', assignmentId)
      .where('revoked_at', 'is', null)
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Revokes every live token of a principal; returns how many. */
  async revokeAllOf(ownerId: string, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('owner_id', '=', ownerId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Names of everything that can own a token in a workspace (users, agents, gateways), by id. */
  async ownerNames(workspaceId: string): Promise<Map<string, string>> {
    const [users, agents, gateways] = await Promise.all([
      this.db
        .selectFrom('users')
        .select(['id', 'handle as name'])
        .where('workspace_id', '=', workspaceId)
        .execute(),
      this.db.selectFrom('agents').select(['id', 'name']).where('workspace_id', '=', workspaceId).execute(),
      this.db.selectFrom('gateways').select(['id', 'name']).where('workspace_id', '=', workspaceId).execute(),
    ]);
    return new Map([...users, ...agents, ...gateways].map((r) => [r.id, r.name]));
  }

  // ---- browser sessions and sign-in codes ------------------------------------------------------

  async insertSession(row: WebSessionRow): Promise<void> {
    await this.db.insertInto('web_sessions').values(row).execute();
  }

  session(idHash: string): Promise<WebSessionRow | undefined> {
    return this.db.selectFrom('web_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  }

  /** Pushes a session's idle end forward as it is used. */
  async touchSession(idHash: string, now: number, idleExpiresAt: number): Promise<void> {
    await this.db
      .updateTable('web_sessions')
      .set({ last_used_at: now, idle_expires_at: idleExpiresAt })
      .where('id_hash', '=', idHash)
      .execute();
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('web_sessions').where('id_hash', '=', idHash).execute();
  }

  async insertSigninCode(row: WebSigninCodeTable): Promise<void> {
    await this.db.insertInto('web_signin_codes').values(row).execute();
  }

  /** Marks a live code used (compare-and-set: one use wins) and returns its token id, or undefined. */
  async useSigninCode(codeHash: string, now: number): Promise<string | undefined> {
    const used = await this.db
      .updateTable('web_signin_codes')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return undefined;
    const row = await this.db
      .selectFrom('web_signin_codes')
      .select('token_id')
      .where('code_hash', '=', codeHash)
      .executeTakeFirstOrThrow();
    return row.token_id;
  }

  /** Drops ended sessions and expired codes. */
  async pruneSessions(now: number): Promise<void> {
    await this.db
      .deleteFrom('web_sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('idle_expires_at', '<=', now)]))
      .execute();
    await this.db.deleteFrom('web_signin_codes').where('expires_at', '<=', now).execute();
  }
}
