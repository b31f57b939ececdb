/**
 * `0003_providers`: result details and resume fallback of assignments; approvals of tool permissions.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // One column per statement: SQLite's ALTER TABLE adds one column at a time.
    await db.schema
      .alterTable('assignments')
      .addColumn('resume_fallback', 'text', (c) => c.notNull().defaultTo('fail'))
      .execute();
    await db.schema.alterTable('assignments').addColumn('result_details', 'text').execute();
    await db.schema
      .createTable('approvals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('tool', 'text', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
      .addColumn('assignment_id', 'text', (c) => c.notNull().references('assignments.id'))
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .addColumn('decided_by', 'text')
      .addColumn('answered', 'integer', (c) => c.notNull().defaultTo(0))
      .addUniqueConstraint('approvals_request', ['assignment_id', 'attempt', 'request_id'])
      .execute();
    await db.schema
      .createIndex('approvals_workspace_created')
      .on('approvals')
      .columns(['workspace_id', 'created_at'])
      .execute();
  },
};
