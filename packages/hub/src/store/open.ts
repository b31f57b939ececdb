/** Opens a store from a `--db` value: a SQLite file path or a `postgres://` URL. */
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { GantryError } from '@gantry/protocol';
import { ensurePrivateFile, tightenIfPresent, type Warn } from '@gantry/protocol/node';
import type { FastEventInsert, NewEvent } from './assignment-events.ts';
import type { Database } from './schema.ts';
import { Store } from './store.ts';

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** `warn` hears of a database file or folder made private that was not (see `private-files`). */
export async function openStore(db: string, options: { warn?: Warn } = {}): Promise<Store> {
  // `mysql://…` or `sqlite:///…` would otherwise become a folder named `mysql:` with a SQLite file in it.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(db)?.[1];
  if (scheme !== undefined && !isPostgresUrl(db))
    throw new GantryError(
      'invalid_request',
      `--db (or GANTRY_DATABASE_URL) takes a PostgreSQL URL (postgres://USER@HOST:PORT/DB) or a SQLite file's path (like ./hub.db), not a ${scheme}:// URL`,
    );
  const store = isPostgresUrl(db) ? await openPostgres(db) : await openSqlite(db, options.warn);
  await store.migrate();
  return store;
}

async function openSqlite(path: string, warn: Warn | undefined): Promise<Store> {
  const { default: SQLite } = await import('better-sqlite3');
  if (path !== ':memory:') {
    // It holds the JWT signing key. SQLite makes `-wal` and `-shm` with the database file's mode,
    // so a 0600 file before it opens keeps them 0600 too; ones an older version left are tightened.
    ensurePrivateFile(path, warn);
    for (const suffix of ['-wal', '-shm', '-journal']) tightenIfPresent(`${path}${suffix}`, warn);
  }
  let database;
  try {
    database = new SQLite(path);
  } catch (err) {
    throw new GantryError('unavailable', `cannot open SQLite database ${path}: ${(err as Error).message}`);
  }
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  const dialect = new SqliteDialect({ database: withStatementCache(database) });
  const store = new Store('sqlite', new Kysely<Database>({ dialect }), {
    insertEvents: eventInserter(database),
  });
  return store;
}

async function openPostgres(url: string): Promise<Store> {
  const { default: pg } = await import('pg');
  // bigint columns hold milliseconds and counts: well within Number's range.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // An idle connection the server ends (a restart, a failover) is an 'error' on the pool; unheard,
  // it would end the hub. The pool drops that client and the next query connects afresh.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new GantryError('unavailable', `cannot connect to PostgreSQL: ${(err as Error).message}`);
  }
  return new Store('postgres', new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
}

/**
 * Kysely prepares every query afresh; the hub runs the same few dozen statements over and over, and
 * preparing costs more than running most of them. Statements are kept by their SQL (the store never
 * streams, so no statement is ever busy when it is handed out again).
 */
function withStatementCache(database: BetterSqlite3.Database, max = 256) {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (statements.size >= max) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Events are the hottest write: a batch goes in one transaction, through statements prepared once
 * for 100, 10 and 1 rows (fewer, larger statements cost a third less per row than one per row;
 * preparing a statement for each batch's own size would cost more). Same semantics: a stored seq stays.
 */
function eventInserter(database: BetterSqlite3.Database): FastEventInsert {
  let insertAll: FastEventInsert | undefined;
  // Prepared on first use: the table exists only once the migrations have run.
  return (assignmentId, attempt, events) => {
    if (!insertAll) {
      const statements = rowsPerInsert.map((rows) => ({
        rows,
        statement: database.prepare(
          `insert into assignment_events (assignment_id, attempt, seq, type, ts, data) values
           ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}
           on conflict (assignment_id, attempt, seq) do nothing`,
        ),
        params: new Array<unknown>(rows * 6),
      }));
      insertAll = database.transaction((id: string, n: number, all: NewEvent[]) => {
        let at = 0;
        for (const { rows, statement, params } of statements) {
          for (; all.length - at >= rows; at += rows) {
            for (let i = 0, j = 0; i < rows; i++) {
              const e = all[at + i] as NewEvent;
              params[j++] = id;
              params[j++] = n;
              params[j++] = e.seq;
              params[j++] = e.type;
              params[j++] = e.ts;
              params[j++] = e.data;
            }
            statement.run(params);
          }
        }
      });
    }
    insertAll(assignmentId, attempt, events);
  };
}

/** The statement sizes a batch is cut into, largest first (the last must be 1). */
const rowsPerInsert = [100, 10, 1];
