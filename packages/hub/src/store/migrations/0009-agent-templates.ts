/**
 * `0009_agent_templates`: the template an agent was added from, and when it was removed.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // The template an agent was added from (`gantry agents add --template`), and when it was
    // removed: a removed agent that history still refers to stays, unusable and unlisted.
    await db.schema.alterTable('agents').addColumn('template', 'text').execute();
    await db.schema.alterTable('agents').addColumn('removed_at', 'bigint').execute();
  },
};
