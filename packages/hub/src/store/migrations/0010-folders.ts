/**
 * `0010_folders`: pass-through folders, each approved to speak for one agent.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // Pass-through folders (DESIGN §5): one folder on one gateway speaks for one agent once a
    // person approves it (kind `folder`). The row id is the approval id.
    await db.schema
      .createTable('folders')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id'))
      .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
      .addColumn('workdir', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('os_user', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .addColumn('decided_by', 'text')
      .addColumn('key_issued_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('folders_gateway_workdir')
      .on('folders')
      .columns(['gateway_id', 'workdir'])
      .execute();
    await db.schema
      .createIndex('folders_workspace_created')
      .on('folders')
      .columns(['workspace_id', 'created_at'])
      .execute();
  },
};
