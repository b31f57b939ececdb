/**
 * `0012_web_sessions`: the dashboard's browser sessions and one-time sign-in codes. Like tokens,
 * only SHA-256 hashes of the secrets are kept: the database alone signs no one in.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('web_sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('csrf_hash', 'text', (c) => c.notNull())
      // The user token it was signed in with: revoking that token ends the session.
      .addColumn('token_id', 'text', (c) => c.notNull())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint', (c) => c.notNull())
      // Pushed forward as the session is used; it ends at the earlier of this and expires_at.
      .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('web_sessions_token').on('web_sessions').column('token_id').execute();
    await db.schema
      .createTable('web_signin_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('token_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
  },
};
