/**
 * `gateway.db`: the gateway's durable state. The outbox holds every `events` and `result` frame
 * from before it is sent until the hub acks it; attempts record what this machine runs (with the
 * process group, for sweeping after a crash); provider sessions map (agent, session key) to the
 * provider's own id for continuations. Writes are synchronous and small.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';
import type { LocalRunResult } from '@gantry/protocol';
import { ensurePrivateFile, tightenIfPresent, type Warn } from '@gantry/protocol/node';

export type AttemptState = 'accepted' | 'starting' | 'running' | 'finished';

export interface AttemptRecord {
  assignmentId: string;
  attempt: number;
  agentId: string;
  state: AttemptState;
  /** The provider's process group, and when its leader started (pids are reused). */
  pid: number | null;
  pidStart?: string | null;
  /** The last event number written to the outbox (a run taken back after a restart numbers on from it). */
  lastSeq?: number;
}

export interface OutboxRow {
  id: number;
  assignmentId: string;
  attempt: number;
  kind: 'events' | 'result';
  lastSeq: number;
  frame: string;
}

const schema = `
create table if not exists outbox (
  id integer primary key autoincrement,
  assignment_id text not null,
  attempt integer not null,
  kind text not null,
  last_seq integer not null,
  frame text not null,
  created_at integer not null
);
create index if not exists outbox_attempt on outbox (assignment_id, attempt);
create table if not exists attempts (
  assignment_id text not null,
  attempt integer not null,
  agent_id text not null,
  state text not null,
  pid integer,
  pid_start text,
  last_seq integer not null default 0,
  created_at integer not null,
  updated_at integer not null,
  primary key (assignment_id, attempt)
);
create table if not exists local_runs (
  id text primary key,
  agent_id text not null,
  started_at text not null,
  record text not null
);
create table if not exists provider_sessions (
  agent_id text not null,
  session_key text not null,
  provider text not null,
  resume_id text not null,
  workdir text not null,
  updated_at integer not null,
  primary key (agent_id, session_key)
);
`;

export class GatewayDb {
  private readonly db: BetterSqlite3.Database;
  private readonly statements: Record<
    'enqueue' | 'lastSeq' | 'pending' | 'ackEvents' | 'ackResult',
    BetterSqlite3.Statement
  >;
  private bytes: number;
  /** Made once: a run writes an `events` frame every few milliseconds. */
  private readonly enqueueEventsAt: (row: Omit<OutboxRow, 'id' | 'kind'>) => number;
  private readonly cache = new Map<string, BetterSqlite3.Statement>();

  /** `warn` hears of a database file or folder made private that was not. */
  constructor(path: string, warn?: Warn) {
    if (path !== ':memory:') {
      // The outbox holds run output. SQLite makes `-wal` and `-shm` with the database file's mode.
      ensurePrivateFile(path, warn);
      for (const suffix of ['-wal', '-shm', '-journal']) tightenIfPresent(`${path}${suffix}`, warn);
    }
    // Loaded with require so the CLI bundle keeps the native module external and lazy.
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(schema);
    this.migrate();
    this.statements = {
      enqueue: this.db.prepare(
        'insert into outbox (assignment_id, attempt, kind, last_seq, frame, created_at) values (?, ?, ?, ?, ?, ?)',
      ),
      lastSeq: this.db.prepare(
        'update attempts set last_seq = max(last_seq, ?) where assignment_id = ? and attempt = ?',
      ),
      pending: this.db.prepare(
        `select id, assignment_id as assignmentId, attempt, kind, last_seq as lastSeq, frame
         from outbox where id > ? order by id limit ?`,
      ),
      ackEvents: this.db.prepare(
        `delete from outbox where assignment_id = ? and attempt = ? and kind = 'events' and last_seq <= ?
         returning length(cast(frame as blob)) as size`,
      ),
      ackResult: this.db.prepare(
        `delete from outbox where assignment_id = ? and attempt = ? and kind = 'result'
         returning length(cast(frame as blob)) as size`,
      ),
    };
    const { size } = this.db
      .prepare('select coalesce(sum(length(cast(frame as blob))), 0) as size from outbox')
      .get() as {
      size: number;
    };
    this.bytes = size;
    this.enqueueEventsAt = this.db.transaction((row: Omit<OutboxRow, 'id' | 'kind'>) => {
      const id = this.enqueue({ ...row, kind: 'events' });
      this.statements.lastSeq.run(row.lastSeq, row.assignmentId, row.attempt);
      return id;
    });
  }

  close(): void {
    this.db.close();
  }

  /** A statement prepared once per text (preparing costs more than running these small ones). */
  private prepared(sql: string): BetterSqlite3.Statement {
    let statement = this.cache.get(sql);
    if (!statement) this.cache.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** Databases made before runs outlived the daemon: attempts learn their last event number. */
  private migrate(): void {
    const columns = this.db.prepare('pragma table_info(attempts)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'last_seq'))
      this.db.exec('alter table attempts add column last_seq integer not null default 0');
  }

  /** Runs `fn` in one transaction: all of its writes or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- outbox ----------------------------------------------------------------------------------

  enqueue(row: Omit<OutboxRow, 'id'>): number {
    const info = this.statements.enqueue.run(
      row.assignmentId,
      row.attempt,
      row.kind,
      row.lastSeq,
      row.frame,
      Date.now(),
    );
    this.bytes += Buffer.byteLength(row.frame);
    return Number(info.lastInsertRowid);
  }

  /** An `events` frame, and its last event number on the attempt's record, together. */
  enqueueEvents(row: Omit<OutboxRow, 'id' | 'kind'>): number {
    return this.enqueueEventsAt(row);
  }

  pending(afterId = 0, limit = 500): OutboxRow[] {
    return this.statements.pending.all(afterId, limit) as OutboxRow[];
  }

  ackEvents(assignmentId: string, attempt: number, upToSeq: number): void {
    this.release(this.statements.ackEvents.all(assignmentId, attempt, upToSeq));
  }

  ackResult(assignmentId: string, attempt: number): void {
    this.release(this.statements.ackResult.all(assignmentId, attempt));
    this.forgetAttempt(assignmentId, attempt);
  }

  outboxDepth(): number {
    return (this.prepared('select count(*) as n from outbox').get() as { n: number }).n;
  }

  /** Bytes of frames waiting in the outbox. */
  outboxBytes(): number {
    return this.bytes;
  }

  private release(deleted: unknown[]): void {
    for (const row of deleted as { size: number }[]) this.bytes -= row.size;
  }

  // ---- attempts --------------------------------------------------------------------------------

  recordAttempt(record: AttemptRecord): void {
    const now = Date.now();
    this.prepared(
      `insert into attempts (assignment_id, attempt, agent_id, state, pid, pid_start, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (assignment_id, attempt) do update set state = excluded.state, pid = excluded.pid,
           pid_start = excluded.pid_start, updated_at = excluded.updated_at`,
    ).run(
      record.assignmentId,
      record.attempt,
      record.agentId,
      record.state,
      record.pid,
      record.pidStart ?? null,
      now,
      now,
    );
  }

  forgetAttempt(assignmentId: string, attempt: number): void {
    this.prepared('delete from attempts where assignment_id = ? and attempt = ?').run(assignmentId, attempt);
  }

  attempts(): AttemptRecord[] {
    return this.prepared(
      `select assignment_id as assignmentId, attempt, agent_id as agentId, state, pid, pid_start as pidStart,
           last_seq as lastSeq
         from attempts order by created_at`,
    ).all() as AttemptRecord[];
  }

  // ---- local runs (the local API's run history) ------------------------------------------------

  saveLocalRun(record: LocalRunResult): void {
    this.prepared(
      'insert or replace into local_runs (id, agent_id, started_at, record) values (?, ?, ?, ?)',
    ).run(record.id, record.agent.id, record.startedAt, JSON.stringify(record));
  }

  localRun(id: string): LocalRunResult | undefined {
    const row = this.prepared('select record from local_runs where id = ?').get(id) as
      { record: string } | undefined;
    return row ? (JSON.parse(row.record) as LocalRunResult) : undefined;
  }

  // ---- provider sessions -----------------------------------------------------------------------

  resumeId(
    agentId: string,
    sessionKey: string,
  ): { resumeId: string; workdir: string; provider: string } | undefined {
    return this.prepared(
      `select resume_id as resumeId, workdir, provider from provider_sessions where agent_id = ? and session_key = ?`,
    ).get(agentId, sessionKey) as { resumeId: string; workdir: string; provider: string } | undefined;
  }

  saveResumeId(
    agentId: string,
    sessionKey: string,
    provider: string,
    resumeId: string,
    workdir: string,
  ): void {
    this.prepared(
      `insert into provider_sessions (agent_id, session_key, provider, resume_id, workdir, updated_at)
         values (?, ?, ?, ?, ?, ?)
         on conflict (agent_id, session_key) do update set provider = excluded.provider,
           resume_id = excluded.resume_id, workdir = excluded.workdir, updated_at = excluded.updated_at`,
    ).run(agentId, sessionKey, provider, resumeId, workdir, Date.now());
  }
}
