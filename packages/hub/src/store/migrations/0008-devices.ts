/**
 * `0008_devices`: gateway device keys and their trust per agent.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // A gateway's device key and fingerprint (DESIGN §5); a gateway that never sent a key has no row.
    await db.schema
      .createTable('devices')
      .addColumn('gateway_id', 'text', (c) => c.primaryKey().references('gateways.id'))
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('os_user', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // Whether a gateway may serve an agent, for one fingerprint: trusted on first use, or an
    // approval (kind `device` or `fingerprint`) a person decides. The row id is the approval id.
    await db.schema
      .createTable('device_grants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id'))
      .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('hostname', 'text', (c) => c.notNull())
      .addColumn('os_user', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .addColumn('decided_by', 'text')
      .execute();
    await db.schema
      .createIndex('device_grants_gateway_agent')
      .on('device_grants')
      .columns(['gateway_id', 'agent_id', 'created_at'])
      .execute();
    await db.schema.createIndex('device_grants_agent').on('device_grants').column('agent_id').execute();
    await db.schema
      .createIndex('device_grants_workspace_created')
      .on('device_grants')
      .columns(['workspace_id', 'created_at'])
      .execute();
  },
};
