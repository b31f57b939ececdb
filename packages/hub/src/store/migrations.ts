/**
 * Versioned migrations, run at start. Each is written with Kysely's schema builder so the same
 * migration runs on SQLite and PostgreSQL. Never edit one that has shipped: add the next.
 */
import { PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { webSessionsMigration } from './web-sessions-migration.ts';

const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('workspaces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('handle', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('users_workspace_handle', ['workspace_id', 'handle'])
        .execute();
      await db.schema
        .createTable('agents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('agents_workspace_name', ['workspace_id', 'name'])
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('tokens_owner').on('tokens').columns(['owner_id']).execute();
      await db.schema
        .createTable('gateways')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hostname', 'text')
        .addColumn('version', 'text')
        .addColumn('connected', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_seen_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('gateway_agents')
        .addColumn('gateway_id', 'text', (c) => c.notNull().references('gateways.id'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
        .addColumn('provider', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('gateway_agents_pk', ['gateway_id', 'agent_id'])
        .execute();
      await db.schema
        .createTable('assignments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
        .addColumn('prompt', 'text', (c) => c.notNull())
        .addColumn('session_key', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('timeout_ms', 'bigint', (c) => c.notNull())
        .addColumn('retries', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('gateway_id', 'text')
        .addColumn('lease_expires_at', 'bigint')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('result_output', 'text')
        .addColumn('result_exit_code', 'integer')
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .execute();
      await db.schema
        .createIndex('assignments_state_agent')
        .on('assignments')
        .columns(['state', 'agent_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('assignments_workspace_created')
        .on('assignments')
        .columns(['workspace_id', 'created_at'])
        .execute();
      await db.schema
        .createTable('assignment_events')
        .addColumn('assignment_id', 'text', (c) => c.notNull().references('assignments.id'))
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('ts', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('assignment_events_pk', ['assignment_id', 'attempt', 'seq'])
        .execute();
    },
  },
  '0002_audit': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_workspace_ts').on('audit').columns(['workspace_id', 'ts']).execute();
    },
  },
  '0003_providers': {
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
  },
  '0004_collaboration': {
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
      await db.schema
        .createIndex('mailbox_recipient')
        .on('mailbox')
        .columns(['recipient_id', 'seq'])
        .execute();
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
  },
  '0005_work': {
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
  },
  '0006_mailbox_indexes': {
    async up(db: Kysely<unknown>) {
      // A mailbox keeps every message it ever got; an inbox call looks only at the few not yet
      // handed out (or not yet read), so those get indexes of their own and stay fast as it grows.
      await db.schema
        .createIndex('mailbox_undelivered')
        .on('mailbox')
        .columns(['recipient_id', 'seq'])
        .where(sql.ref('delivered_at'), 'is', null)
        .execute();
      await db.schema
        .createIndex('mailbox_unread')
        .on('mailbox')
        .columns(['recipient_id', 'seq'])
        .where(sql.ref('read_at'), 'is', null)
        .execute();
    },
  },
  '0007_memberships': {
    async up(db: Kysely<unknown>) {
      // A `users` row is one membership (workspace, handle, role); `person_id` ties together the
      // memberships of one person, so one login can act in each of its workspaces.
      await db.schema.alterTable('users').addColumn('person_id', 'text').execute();
      await sql`update users set person_id = id`.execute(db);
      await db.schema.createIndex('users_person').on('users').column('person_id').execute();
      await db.schema
        .createIndex('tokens_workspace')
        .on('tokens')
        .columns(['workspace_id', 'kind'])
        .execute();
    },
  },
  '0008_devices': {
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
  },
  '0009_agent_templates': {
    async up(db: Kysely<unknown>) {
      // The template an agent was added from (`gantry agents add --template`), and when it was
      // removed: a removed agent that history still refers to stays, unusable and unlisted.
      await db.schema.alterTable('agents').addColumn('template', 'text').execute();
      await db.schema.alterTable('agents').addColumn('removed_at', 'bigint').execute();
    },
  },
  '0010_folders': {
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
  },
  '0011_offer_fencing': {
    async up(db: Kysely<unknown>) {
      // The id of the offer an attempt is held under (DESIGN §3): an answer naming another offer
      // of the same attempt is a stale one and changes nothing.
      await db.schema.alterTable('assignments').addColumn('offer_id', 'text').execute();
    },
  },
  '0012_web_sessions': webSessionsMigration,
  '0013_activity_internal': {
    async up(db: Kysely<unknown>) {
      // What the work dispatcher reads of an entry (a message's hops, a task's dispatch) moves
      // beside it, out of the served `data`, for entries already written too.
      await db.schema.alterTable('activity').addColumn('internal', 'text').execute();
      await moveInternalFields(db);
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

/**
 * Moves `hops` (message.created) and `dispatch` (task.*) out of entries' `data` into `internal`.
 * Done here rather than in SQL: PostgreSQL's json functions refuse the `\u0000` escapes a message
 * may hold, and rewriting in place keeps every other key, and its order, as written.
 */
export async function moveInternalFields(db: Kysely<unknown>): Promise<void> {
  const q = db as Kysely<{ activity: { id: number; type: string; data: string; internal: string | null } }>;
  const moves = { 'message.created': 'hops', 'task.created': 'dispatch', 'task.updated': 'dispatch' };
  let after = -1;
  for (;;) {
    const rows = await q
      .selectFrom('activity')
      .select(['id', 'type', 'data'])
      .where('type', 'in', Object.keys(moves))
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .execute();
    for (const row of rows) {
      const key = moves[row.type as keyof typeof moves];
      const data = JSON.parse(row.data) as Record<string, unknown>;
      if (!(key in data)) continue;
      const { [key]: value, ...rest } = data;
      await q
        .updateTable('activity')
        .set({ data: JSON.stringify(rest), internal: JSON.stringify({ [key]: value }) })
        .where('id', '=', row.id)
        .execute();
    }
    const last = rows.at(-1);
    if (!last) return;
    after = Number(last.id);
  }
}
