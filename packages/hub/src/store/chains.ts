/**
 * Chains of runs (DESIGN §6a): a chain's root and person, the limits raised for it, and what it
 * holds (its runs and the triggers its limits stopped).
 */
import { terminalStates } from '@gantry/protocol';
import type { Db } from './db.ts';
import type { AssignmentTable, ChainTable } from './schema.ts';

export type ChainRow = ChainTable;
/** A chain as first recorded: not stopped. */
export type NewChain = Omit<ChainRow, 'stopped_at' | 'stopped_limit' | 'stopped_agent_id'>;

export interface ChainListFilter {
  /** Only chains stopped at a limit (oldest stop first); else every chain, newest first. */
  stopped?: boolean;
  /** Only the chains this person started. */
  personId?: string;
  limit?: number;
}

export class ChainRepository {
  constructor(private readonly db: Db) {}

  /** Records a chain once (the first root wins); returns the stored row. */
  async ensure(row: NewChain): Promise<ChainRow> {
    // The new row comes back from the insert itself; only one that was there already is read.
    const made = await this.db
      .insertInto('chains')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    return (
      made ??
      (await this.get(row.id)) ?? { ...row, stopped_at: null, stopped_limit: null, stopped_agent_id: null }
    );
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

  /** A limit stopped the chain: it waits on a person from its first stop until it goes on. */
  async stop(id: string, stop: { limit: string; agentId: string }, now = Date.now()): Promise<void> {
    await this.db
      .updateTable('chains')
      .set((eb) => ({
        stopped_at: eb.fn.coalesce('stopped_at', eb.val(now)),
        stopped_limit: stop.limit,
        stopped_agent_id: stop.agentId,
        updated_at: now,
      }))
      .where('id', '=', id)
      .execute();
  }

  /** The chain went on or was dismissed: false when it was not stopped (another did first). */
  async unstop(id: string, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('chains')
      .set({ stopped_at: null, stopped_limit: null, stopped_agent_id: null, updated_at: now })
      .where('id', '=', id)
      .where('stopped_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** A workspace's chains: stopped ones oldest stop first, else newest first. */
  list(workspaceId: string, filter: ChainListFilter = {}): Promise<ChainRow[]> {
    let query = this.db.selectFrom('chains').selectAll().where('workspace_id', '=', workspaceId);
    if (filter.personId !== undefined) query = query.where('person_id', '=', filter.personId);
    query = filter.stopped
      ? query.where('stopped_at', 'is not', null).orderBy('stopped_at').orderBy('id')
      : query.orderBy('created_at', 'desc').orderBy('id', 'desc');
    return query.limit(filter.limit ?? 100).execute();
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

  /** What a list shows of a chain's runs: how many, the deepest, and how many have not ended. */
  async tally(id: string): Promise<{ runs: number; depth: number; active: number }> {
    const row = await this.db
      .selectFrom('assignments')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.max<number | null>('depth').as('deepest'),
        eb.fn
          .count<number>(
            eb
              .case()
              .when('state', 'not in', [...terminalStates])
              .then(1)
              .end(),
          )
          .as('active'),
      ])
      .where('chain_id', '=', id)
      .executeTakeFirst();
    return { runs: Number(row?.n ?? 0), depth: Number(row?.deepest ?? 0), active: Number(row?.active ?? 0) };
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
