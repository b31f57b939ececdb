/**
 * `0005_work`: the work dispatcher's records: one row per (trigger entry, agent).
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // One row per run the hub starts for a mention or a task: the (trigger, agent) key makes a
    // dispatch happen once, and the row carries the run to its reply and its task's move.
    await db.schema
      .createTable('work')
      .addColumn('trigger_id', 'bigint', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('message_id', 'text')
      .addColumn('thread_id', 'text')
      .addColumn('task_id', 'text')
      .addColumn('session_key', 'text', (c) => c.notNull())
      .addColumn('assignment_id', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('reply_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('work_pk', ['trigger_id', 'agent_id'])
      .execute();
    await db.schema.createIndex('work_assignment').on('work').column('assignment_id').execute();
    await db.schema.createIndex('work_state').on('work').column('state').execute();
    await db.schema.createIndex('work_thread').on('work').columns(['thread_id', 'agent_id']).execute();
    await db.schema.createIndex('work_task').on('work').columns(['task_id', 'agent_id']).execute();
  },
};
