/**
 * `0004_collaboration`: agent kinds and pause; the activity log (ids from a counter row), messages and
 * mailboxes, tasks, context entries and their file chunks.
 */
import { PostgresAdapter, type Kysely, type Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
    await db.schema
      .alterTable('agents')
      .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // Ids of the activity log come from this counter, taken inside the writing transaction: its
    // row lock orders the ids as the commits, so a reader `since` an id never skips a late commit.
    await db.schema
      .createTable('counters')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
    await db
      .insertInto('counters' as never)
      .values({ name: 'activity', value: 0 } as never)
      .execute();
    await db.schema
      .createTable('activity')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('actor_kind', 'text')
      .addColumn('actor_id', 'text')
      .addColumn('actor_name', 'text')
      .addColumn('subject', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('activity_workspace_id')
      .on('activity')
      .columns(['workspace_id', 'id'])
      .execute();
    await db.schema
      .createTable('messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('author_kind', 'text', (c) => c.notNull())
      .addColumn('author_id', 'text', (c) => c.notNull())
      .addColumn('author_name', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('mentions', 'text', (c) => c.notNull())
      .addColumn('parent_id', 'text')
      .addColumn('thread_id', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('hops', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('messages_workspace_seq')
      .on('messages')
      .columns(['workspace_id', 'seq'])
      .execute();
    await db.schema.createIndex('messages_thread').on('messages').columns(['thread_id', 'seq']).execute();
    // One row per (message, recipient): the mailbox. `delivered_at`: an inbox call handed it out.
    await db.schema
      .createTable('mailbox')
      .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
      .addColumn('recipient_kind', 'text', (c) => c.notNull())
      .addColumn('recipient_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .addColumn('read_at', 'bigint')
      .addPrimaryKeyConstraint('mailbox_pk', ['message_id', 'recipient_id'])
      .execute();
    await db.schema.createIndex('mailbox_recipient').on('mailbox').columns(['recipient_id', 'seq']).execute();
    await db.schema
      .createTable('tasks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('intent', 'text', (c) => c.notNull())
      .addColumn('assignee_id', 'text')
      .addColumn('created_by_kind', 'text', (c) => c.notNull())
      .addColumn('created_by_id', 'text', (c) => c.notNull())
      .addColumn('assignment_id', 'text')
      .addColumn('thread_id', 'text')
      .addColumn('error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('tasks_workspace')
      .on('tasks')
      .columns(['workspace_id', 'updated_at'])
      .execute();
    await db.schema
      .createTable('context_entries')
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text')
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'text')
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('context_entries_pk', ['workspace_id', 'key'])
      .execute();
    // A file artifact's bytes, in chunks, so uploads and downloads stream through the store.
    await db.schema
      .createTable('context_chunks')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('upload_id', 'text', (c) => c.notNull())
      .addColumn('n', 'integer', (c) => c.notNull())
      .addColumn('bytes', bytes, (c) => c.notNull())
      .addPrimaryKeyConstraint('context_chunks_pk', ['upload_id', 'n'])
      .execute();
    await db.schema.alterTable('context_entries').addColumn('upload_id', 'text').execute();
  },
};
