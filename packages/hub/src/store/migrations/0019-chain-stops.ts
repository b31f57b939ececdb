/**
 * `0019_chain_stops`: a chain stopped at its limit waits on a person (the dashboard's Needs you)
 * until it is continued or dismissed: when it stopped, which limit, and the agent that was not run.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('chains').addColumn('stopped_at', 'bigint').execute();
    await db.schema.alterTable('chains').addColumn('stopped_limit', 'text').execute();
    await db.schema.alterTable('chains').addColumn('stopped_agent_id', 'text').execute();
    // The stopped chains of a workspace, oldest stop first, without a scan of every chain.
    await db.schema
      .createIndex('chains_stopped')
      .on('chains')
      .columns(['workspace_id', 'stopped_at'])
      .execute();
  },
};
