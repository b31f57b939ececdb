/**
 * `Idempotency-Key`s of assignment creates (issue 15): which assignment a key of a workspace names,
 * for what request. The primary key (workspace, key) decides who creates, across hubs too.
 */
import type { Db } from './db.ts';

export interface IdempotencyKeyTable {
  workspace_id: string;
  key: string;
  fingerprint: string;
  assignment_id: string;
  created_at: number;
}

export type IdempotencyKeyRow = IdempotencyKeyTable;

export class IdempotencyKeyRepository {
  constructor(private readonly db: Db) {}

  /** The key's row, if it was claimed at `notBefore` or later (older ones have lapsed). */
  find(workspaceId: string, key: string, notBefore: number): Promise<IdempotencyKeyRow | undefined> {
    return this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('key', '=', key)
      .where('created_at', '>=', notBefore)
      .executeTakeFirst();
  }

  /**
   * Claims a key for an assignment: true when this call claimed it, false when it is held. Keys of
   * the workspace older than `notBefore` are dropped first, so a lapsed key can be claimed again.
   */
  async claim(row: IdempotencyKeyRow, notBefore: number): Promise<boolean> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('workspace_id', '=', row.workspace_id)
      .where('created_at', '<', notBefore)
      .execute();
    const claimed = await this.db
      .insertInto('idempotency_keys')
      .values(row)
      .onConflict((oc) => oc.columns(['workspace_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  /** Gives up a claim that made nothing (the request failed), so the key can be used again. */
  async release(workspaceId: string, key: string, assignmentId: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('workspace_id', '=', workspaceId)
      .where('key', '=', key)
      .where('assignment_id', '=', assignmentId)
      .execute();
  }
}
