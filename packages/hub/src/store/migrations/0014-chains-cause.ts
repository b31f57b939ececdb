/**
 * `0014_chains_cause`: the run whose action started an assignment (after `0014_chains` shipped).
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // Who triggered whom in a chain's tree: null for a chain's first run (and for older rows).
    await db.schema.alterTable('assignments').addColumn('cause_id', 'text').execute();
  },
};
