/**
 * One persistence style (issue 11): every repository query has a case in a store contract suite
 * (so it runs on SQLite and PostgreSQL), and only `store/` reaches the database.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/store/db.ts';
import { Repositories } from '../src/store/repositories.ts';

const here = import.meta.dirname;
const src = join(here, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** `repo.method` for every query of every repository (methods, not getters such as `insertIsAtomic`). */
function queries(): string[] {
  const repos = new Repositories('sqlite', {} as Db) as unknown as Record<string, object>;
  return Object.entries(repos).flatMap(([name, repo]) => {
    if (typeof repo !== 'object') return [];
    const proto = Object.getPrototypeOf(repo) as object;
    return Object.getOwnPropertyNames(proto)
      .filter(
        (m) => m !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, m)?.value === 'function',
      )
      .map((m) => `${name}.${m}`);
  });
}

describe('the store', () => {
  it('has a contract case, on both backends, for every repository query', () => {
    const suites = readdirSync(here)
      .filter((f) => f.endsWith('.contract.test.ts'))
      .map((f) => readFileSync(join(here, f), 'utf8'))
      .join('\n');
    const all = queries();
    expect(all.length).toBeGreaterThan(100);
    const untested = all.filter((q) => !new RegExp(`\\.${q.replace('.', '\\.')}\\(`).test(suites));
    expect(untested).toEqual([]);
  });

  it('is the only part of the hub that reaches the database', () => {
    const outside = files(src).filter((f) => !relative(src, f).startsWith('store/'));
    const reaching = outside.filter((f) =>
      /from 'kysely'|databaseOf|\.transaction\(\)\.execute/.test(readFileSync(f, 'utf8')),
    );
    expect(reaching.map((f) => relative(src, f))).toEqual([]);
  });
});
