/**
 * `0020_idempotency_keys`: `Idempotency-Key` of `POST /v1/assignments` (issue 15). A key is unique
 * in its workspace through the primary key, so two hubs on one PostgreSQL never both create for it.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      // A hash of the request (and who sent it): a reuse with another request is refused.
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('assignment_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['workspace_id', 'key'])
      .execute();
    // Keys past their window are dropped by age, without a scan of every key.
    await db.schema
      .createIndex('idempotency_keys_age')
      .on('idempotency_keys')
      .columns(['workspace_id', 'created_at'])
      .execute();
  },
};
