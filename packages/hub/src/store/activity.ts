/**
 * The activity log's rows. Ids come from a counter row taken inside the writing transaction, so
 * they follow commit order on SQLite and PostgreSQL alike.
 */
import { sql } from 'kysely';
import type { Db, StoreKind } from './db.ts';
import type { ActivityTable } from './schema.ts';

export type ActivityRow = ActivityTable;

export class ActivityRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  /**
   * Inserts an entry under the next id; run it in the transaction that makes the change it tells.
   * On PostgreSQL it is one statement: the counter row stays locked until the transaction ends, so
   * an entry appended on its own holds it for that statement and its commit, not for round trips
   * to the hub between statements (which serialised every append: issue 15).
   */
  async insert(entry: Omit<ActivityRow, 'id'>): Promise<ActivityRow> {
    if (this.kind === 'postgres') {
      const { id } = await this.db
        .with('next', (db) =>
          db
            .updateTable('counters')
            .set((eb) => ({ value: eb('value', '+', 1) }))
            .where('name', '=', 'activity')
            .returning('value'),
        )
        .insertInto('activity')
        .values({ id: sql<number>`(select value from next)`, ...entry })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: Number(id), ...entry };
    }
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

  /** Whether `insert` is one statement, atomic without a transaction of its own. */
  get insertIsAtomic(): boolean {
    return this.kind === 'postgres';
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
