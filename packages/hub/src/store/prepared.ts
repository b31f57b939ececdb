/**
 * The hottest statements, built and compiled once per dialect. Kysely builds a query's tree and
 * compiles it to SQL on every call, which costs more than SQLite takes to run the hub's small
 * statements (issue 15: an inbox wake-up runs a dozen). A prepared query is built once from named
 * slots; each call runs that SQL with its own values through the same executor, so transactions
 * and the SQLite connection's lock work as for any other query. Its builder may use its arguments
 * only as values (never in a condition, a spread or a length): a slot that is not a value throws.
 */
import { CompiledQuery, type Compilable } from 'kysely';
import type { Db, StoreKind } from './db.ts';

/** Stands for the argument `key` while the query is compiled. */
class Slot {
  constructor(readonly key: string) {}
}

interface Template {
  sql: string;
  /** Each parameter: a slot to fill from the call's arguments, or a constant of the query. */
  parameters: readonly unknown[];
}

export interface Prepared<A extends object, R> {
  /** Every row the query returns. */
  all(db: Db, kind: StoreKind, args: A): Promise<R[]>;
  /** The first row, if any. */
  first(db: Db, kind: StoreKind, args: A): Promise<R | undefined>;
}

export function prepared<A extends object, R>(build: (db: Db, args: A) => Compilable<R>): Prepared<A, R> {
  const templates = new Map<StoreKind, Template>();

  function template(db: Db, kind: StoreKind): Template {
    let known = templates.get(kind);
    if (!known) {
      const used = new Set<string>();
      const slots = new Proxy({} as A, {
        get: (_, key) => {
          used.add(String(key));
          return new Slot(String(key));
        },
      });
      const query = build(db, slots).compile();
      const filled = new Set(query.parameters.filter((p) => p instanceof Slot).map((p) => p.key));
      const lost = [...used].filter((key) => !filled.has(key));
      if (lost.length > 0) throw new Error(`prepared query uses ${lost.join(', ')} other than as values`);
      known = { sql: query.sql, parameters: query.parameters };
      templates.set(kind, known);
    }
    return known;
  }

  async function all(db: Db, kind: StoreKind, args: A): Promise<R[]> {
    const { sql, parameters } = template(db, kind);
    const values = parameters.map((p) => (p instanceof Slot ? (args as Record<string, unknown>)[p.key] : p));
    const result = await db.executeQuery(CompiledQuery.raw(sql, values) as CompiledQuery<R>);
    return result.rows;
  }

  return { all, first: async (db, kind, args) => (await all(db, kind, args))[0] };
}
