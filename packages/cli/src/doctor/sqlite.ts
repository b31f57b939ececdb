/** SQLite opens: the database read-only when it exists (nothing is written), else an in-memory one. */
import { existsSync } from 'node:fs';
import { error, ok, type Check } from './check.ts';

export async function sqliteCheck(name: string, file: string): Promise<Check> {
  try {
    const { default: Database } = await import('better-sqlite3');
    const present = existsSync(file);
    const db = present
      ? new Database(file, { readonly: true, fileMustExist: true })
      : new Database(':memory:');
    try {
      const row = db.prepare('select count(*) as n from sqlite_master').get() as { n: number };
      return ok(
        name,
        present ? `${file} opens (${row.n} schema entries)` : `SQLite works; ${file} is made on first start`,
      );
    } finally {
      db.close();
    }
  } catch (err) {
    return error(
      name,
      `${file}: ${(err as Error).message}`,
      `npm rebuild better-sqlite3 in the gantry install (a Node upgrade needs it), or move the damaged ${file} aside`,
    );
  }
}
