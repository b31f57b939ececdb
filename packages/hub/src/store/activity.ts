/**
 * The activity log's rows. Ids come from a counter row taken inside the writing transaction, so
 * they follow commit order on SQLite and PostgreSQL alike.
 */
import type { Db } from './db.ts';
import type { ActivityTable } from './schema.ts';

export type ActivityRow = ActivityTable;

export class ActivityRepository {
  constructor(private readonly db: Db) {}

  /** Inserts an entry under the next id; run it in the transaction that makes the change it tells. */
  async insert(entry: Omit<ActivityRow, 'id'>): Promise<ActivityRow> {
    const { value } = await this.db
      .updateTable('counters')
      .set((eb) => ({ value: eb('value', '+', 1) }))
      .where('name', '=', 'activity')
      .returning('value')
      .executeTakeFirstOrThrow();
    const row: ActivityRow = { id: Number(value), ...entry };
    await this.db.insertInto('activity').values(row).execute();
    return row;
  }

  /** A workspace's entries after `afterId`, oldest first. */
  since(workspaceId: string, afterId: number, limit: number): Promise<ActivityRow[]> {
    return this.db
      .selectFrom('activity')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** Entries of the given types after `afterId` in every workspace, oldest first. */
  ofTypes(types: readonly string[], afterId: number, limit: number): Promise<ActivityRow[]> {
    return this.db
      .selectFrom('activity')
      .selectAll()
      .where('id', '>', afterId)
      .where('type', 'in', [...types])
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** One entry by id (a trigger read again: a stopped chain let go on). */
  get(id: number): Promise<ActivityRow | undefined> {
    return this.db.selectFrom('activity').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The newest id of a workspace's log, or of the whole log (0 when empty). */
  async lastId(workspaceId?: string): Promise<number> {
    let query = this.db.selectFrom('activity').select((eb) => eb.fn.max('id').as('id'));
    if (workspaceId !== undefined) query = query.where('workspace_id', '=', workspaceId);
    const row = await query.executeTakeFirst();
    return Number(row?.id ?? 0);
  }
}
