/**
 * The activity log's rows. Ids come from a counter row taken inside the writing transaction, so
 * they follow commit order on SQLite and PostgreSQL alike.
 */
import { sql } from 'kysely';
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { ActivityTable } from './schema.ts';

export type ActivityRow = ActivityTable;

type NewEntry = Omit<ActivityRow, 'id'>;

/** The entry's columns but its id, from slots. */
const columns = (a: NewEntry) => ({
  workspace_id: a.workspace_id,
  type: a.type,
  ts: a.ts,
  actor_kind: a.actor_kind,
  actor_id: a.actor_id,
  actor_name: a.actor_name,
  subject: a.subject,
  data: a.data,
  internal: a.internal,
});

/** PostgreSQL: the next id and the entry in one statement. */
const insertNext = prepared((db, a: NewEntry) =>
  db
    .with('next', (w) =>
      w
        .updateTable('counters')
        .set((eb) => ({ value: eb('value', '+', 1) }))
        .where('name', '=', 'activity')
        .returning('value'),
    )
    .insertInto('activity')
    .values({ id: sql<number>`(select value from next)`, ...columns(a) })
    .returning('id'),
);
/** SQLite: the next id, then the entry under it (in the caller's transaction). */
const nextId = prepared((db, _: Record<string, never>) =>
  db
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', 'activity')
    .returning('value'),
);
const insertWithId = prepared((db, a: ActivityRow) =>
  db.insertInto('activity').values({ id: a.id, ...columns(a) }),
);

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
  async insert(entry: NewEntry): Promise<ActivityRow> {
    if (this.kind === 'postgres') {
      const [inserted] = await insertNext.all(this.db, this.kind, entry);
      if (!inserted) throw new Error('the activity counter is missing');
      return { id: Number(inserted.id), ...entry };
    }
    const [next] = await nextId.all(this.db, this.kind, {});
    if (!next) throw new Error('the activity counter is missing');
    const row: ActivityRow = { id: Number(next.value), ...entry };
    await insertWithId.all(this.db, this.kind, row);
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

  /** A workspace's entries before `beforeId` (all without it), newest first. */
  before(workspaceId: string, beforeId: number | undefined, limit: number): Promise<ActivityRow[]> {
    let query = this.db.selectFrom('activity').selectAll().where('workspace_id', '=', workspaceId);
    if (beforeId !== undefined) query = query.where('id', '<', beforeId);
    return query.orderBy('id', 'desc').limit(limit).execute();
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
