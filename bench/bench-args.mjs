// A bench's command line and its PostgreSQL, said in one line when wrong: `node:util` parseArgs with
// `--help`, an unknown flag or a bad value printed as `NAME: what is wrong (--help lists the options)`
// with exit 2, and a PostgreSQL that cannot be reached as `NAME: cannot reach PostgreSQL ...` with
// exit 1 — never a stack trace, and before the bench has made a folder, a database or a process.
import { parseArgs } from 'node:util';
import pg from 'pg';

/** The options given (`--help` prints `usage` and exits 0). */
export function readArgs(name, usage, options, argv = process.argv.slice(2)) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (err) {
    usageError(name, err.message.replace(/\.?\s*To specify a positional.*$/s, '').replace(/\s*\n\s*/g, ' '));
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

export function usageError(name, message) {
  console.error(`${name}: ${message} (--help lists the options)`);
  process.exit(2);
}

/** `--flag N`: a whole number of at least `min`. */
export function wholeNumber(name, values, flag, min = 1) {
  const n = Number(values[flag]);
  if (values[flag] === '' || !Number.isInteger(n) || n < min)
    usageError(name, `--${flag} must be a whole number of at least ${min}, not '${values[flag]}'`);
  return n;
}

/** `--flag A,B,C`: whole numbers of at least `min`. */
export function wholeNumbers(name, values, flag, min = 1) {
  return String(values[flag])
    .split(',')
    .map((part) => wholeNumber(name, { [flag]: part.trim() }, flag, min));
}

/** `--flag V` among `allowed`. */
export function oneOf(name, values, flag, allowed) {
  if (!allowed.includes(values[flag]))
    usageError(name, `--${flag} must be ${allowed.join(' or ')}, not '${values[flag]}'`);
  return values[flag];
}

/** The server the benches make their databases on. */
export const postgresServer = process.env.GANTRY_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

/** Runs one statement on the server's `postgres` database (CREATE or DROP DATABASE). */
export async function pgAdmin(statement, server = postgresServer) {
  const client = new pg.Client({ connectionString: `${server}/postgres` });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Exits 1 with one line when the server cannot be reached, saying how to point the bench elsewhere. */
export async function requirePostgres(name, server = postgresServer) {
  try {
    await pgAdmin('SELECT 1', server);
  } catch (err) {
    const why = err.message || err.code || String(err);
    console.error(
      `${name}: cannot reach PostgreSQL at ${server} (${why}); start it, or set GANTRY_TEST_POSTGRES=postgres://USER@HOST:PORT`,
    );
    process.exit(1);
  }
}

/**
 * A bench that fails or is interrupted says why in one line (the message; the stack only with
 * BENCH_DEBUG=1), runs `cleanup` (its processes, database and folder; at most 30 s) and exits 1.
 */
export function onFailure(name, cleanup) {
  let failing = false;
  const fail = async (why) => {
    if (failing) return;
    failing = true;
    console.error(`${name}: ${why}`);
    const done = Promise.resolve()
      .then(cleanup)
      .catch(() => undefined);
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
    process.exit(1);
  };
  const said = (err) => (process.env.BENCH_DEBUG && err?.stack) || err?.message || String(err);
  process.on('uncaughtException', (err) => void fail(said(err)));
  process.on('unhandledRejection', (err) => void fail(said(err)));
  // In place of any plain exit on a signal (bench/lib.mjs benchHome's): the clean-up runs first.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.removeAllListeners(signal);
    process.on(signal, () => void fail(`stopped (${signal})`));
  }
}
