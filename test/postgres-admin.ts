/** The machine's PostgreSQL server for tests (GANTRY_TEST_POSTGRES overrides), and one-off admin statements. */
import pg from 'pg';

export const postgresServer = process.env.GANTRY_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

/** Runs one statement (CREATE / DROP DATABASE) on the `postgres` database. */
export async function postgresAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${postgresServer}/postgres` });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
