/**
 * Chains of runs (DESIGN §6a): a chain's root and person, the limits raised for it, and what it
 * holds (its runs and the triggers its limits stopped).
 */
import type { Db } from './db.ts';
import type { AssignmentTable, ChainTable } from './schema.ts';

export type ChainRow = ChainTable;

export class ChainRepository {
  constructor(private readonly db: Db) {}

  /** Records a chain once (the first root wins); returns the stored row. */
  async ensure(row: ChainRow): Promise<ChainRow> {
    await this.db
      .insertInto('chains')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return (await this.get(row.id)) ?? row;
  }

  get(id: string): Promise<ChainRow | undefined> {
    return this.db.selectFrom('chains').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Sets the chain's own limits (null: the hub's). */
  async setLimits(
    id: string,
    limits: Partial<Pick<ChainRow, 'max_depth' | 'max_runs'>>,
    now = Date.now(),
  ): Promise<void> {
    await this.db
      .updateTable('chains')
      .set({ ...limits, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  /** How many runs (assignments) the chain has made. */
  async runs(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('assignments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('chain_id', '=', id)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The chain's runs, oldest first. */
  assignments(id: string, limit = 1000): Promise<AssignmentTable[]> {
    return this.db
      .selectFrom('assignments')
      .selectAll()
      .where('chain_id', '=', id)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }
}
