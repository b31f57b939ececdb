/**
 * `0007_memberships`: one person in several workspaces (`users.person_id`).
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // A `users` row is one membership (workspace, handle, role); `person_id` ties together the
    // memberships of one person, so one login can act in each of its workspaces.
    await db.schema.alterTable('users').addColumn('person_id', 'text').execute();
    await sql`update users set person_id = id`.execute(db);
    await db.schema.createIndex('users_person').on('users').column('person_id').execute();
    await db.schema.createIndex('tokens_workspace').on('tokens').columns(['workspace_id', 'kind']).execute();
  },
};
