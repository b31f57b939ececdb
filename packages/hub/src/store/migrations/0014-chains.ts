/**
 * `0014_chains`: every assignment and message knows its chain (root and depth), a chain's limits
 * and root person, run tokens bound to their assignment, and one run per (message, agent).
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // A chain is named after its root (a person's message, assignment or task, or an unattended
    // trigger); what came before this migration is its own root.
    await db.schema.alterTable('assignments').addColumn('chain_id', 'text').execute();
    await db.schema
      .alterTable('assignments')
      .addColumn('depth', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await sql`update assignments set chain_id = id`.execute(db);
    await db.schema.createIndex('assignments_chain').on('assignments').column('chain_id').execute();

    await db.schema.alterTable('messages').addColumn('chain_id', 'text').execute();
    await db.schema
      .alterTable('messages')
      .addColumn('depth', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`update messages set chain_id = id`.execute(db);

    // Who started a chain (the person its limit and approval messages go to; null when unattended)
    // and the limits a person raised for it (null: the hub's).
    await db.schema
      .createTable('chains')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('root_kind', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text')
      .addColumn('person_name', 'text')
      .addColumn('max_depth', 'integer')
      .addColumn('max_runs', 'integer')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    // A run token is bound to one assignment: it dies with the run.
    await db.schema.alterTable('tokens').addColumn('assignment_id', 'text').execute();
    await db.schema.createIndex('tokens_assignment').on('tokens').column('assignment_id').execute();

    // The chain a trigger belongs to (a stopped one is let go on by `chains continue`), and nothing
    // runs the same agent twice for one message, whichever entry or hub asks.
    await db.schema.alterTable('work').addColumn('chain_id', 'text').execute();
    await db.schema
      .alterTable('work')
      .addColumn('depth', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('work_chain').on('work').columns(['chain_id', 'state']).execute();
    await db.schema
      .createIndex('work_message_agent')
      .on('work')
      .columns(['message_id', 'agent_id'])
      .unique()
      .execute();
  },
};
