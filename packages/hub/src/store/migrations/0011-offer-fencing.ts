/**
 * `0011_offer_fencing`: the offer id an attempt is held under.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // The id of the offer an attempt is held under (DESIGN §3): an answer naming another offer
    // of the same attempt is a stale one and changes nothing.
    await db.schema.alterTable('assignments').addColumn('offer_id', 'text').execute();
  },
};
