/** Context entries of a workspace by key; a file's bytes are chunk rows of its upload. */
import { sql } from 'kysely';
import type { Db, StoreKind } from './db.ts';
import type { ContextEntryTable } from './schema.ts';

export type ContextEntryRow = ContextEntryTable;

export class ContextRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  get(workspaceId: string, key: string): Promise<ContextEntryRow | undefined> {
    return this.db
      .selectFrom('context_entries')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('key', '=', key)
      .executeTakeFirst();
  }

  /** Entries whose key starts with `prefix`, by key. */
  list(workspaceId: string, prefix: string, limit: number): Promise<ContextEntryRow[]> {
    return this.db
      .selectFrom('context_entries')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .$if(prefix !== '', (q) => q.where(sql<boolean>`substr(key, 1, ${prefix.length}) = ${prefix}`))
      .orderBy('key')
      .limit(limit)
      .execute();
  }

  /**
   * Makes `row` the key's entry and returns the upload it replaced (its chunks are then dropped),
   * if any. Run it in a transaction: the old row is locked on PostgreSQL until it commits.
   */
  async put(row: ContextEntryRow): Promise<{ replaced: boolean; uploadId: string | null }> {
    const previous = await this.db
      .selectFrom('context_entries')
      .select('upload_id')
      .where('workspace_id', '=', row.workspace_id)
      .where('key', '=', row.key)
      .$if(this.kind === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    const { workspace_id: _w, key: _k, ...changes } = row;
    await this.db
      .insertInto('context_entries')
      .values(row)
      .onConflict((oc) => oc.columns(['workspace_id', 'key']).doUpdateSet(changes))
      .execute();
    return { replaced: previous !== undefined, uploadId: previous?.upload_id ?? null };
  }

  async delete(workspaceId: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('context_entries')
      .where('workspace_id', '=', workspaceId)
      .where('key', '=', key)
      .execute();
  }

  async insertChunk(chunk: {
    workspace_id: string;
    key: string;
    upload_id: string;
    n: number;
    bytes: Uint8Array;
  }) {
    await this.db.insertInto('context_chunks').values(chunk).execute();
  }

  async chunk(uploadId: string, n: number): Promise<Uint8Array | undefined> {
    const row = await this.db
      .selectFrom('context_chunks')
      .select('bytes')
      .where('upload_id', '=', uploadId)
      .where('n', '=', n)
      .executeTakeFirst();
    return row?.bytes;
  }

  async dropChunks(uploadId: string): Promise<void> {
    await this.db.deleteFrom('context_chunks').where('upload_id', '=', uploadId).execute();
  }
}
