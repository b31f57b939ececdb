/**
 * `0013_activity_internal`: what only the hub reads of an activity entry, beside it and out of its data.
 */
import type { Kysely, Migration } from 'kysely';
import { moveInternalFields } from './move-internal-fields.ts';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // What the work dispatcher reads of an entry (a message's hops, a task's dispatch) moves
    // beside it, out of the served `data`, for entries already written too.
    await db.schema.alterTable('activity').addColumn('internal', 'text').execute();
    await moveInternalFields(db);
  },
};
