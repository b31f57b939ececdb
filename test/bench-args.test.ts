// The benches a user runs by hand (`bench/gateways.mjs`, `bench/cluster.mjs`, `bench/dispatch.mjs`,
// `npm run chaos`) say a
// wrong flag or value in one line with exit 2, and a PostgreSQL that cannot be reached in one line
// with exit 1 — no stack trace, and nothing left behind (no folder made, nothing started).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The benches make their folders in TMPDIR: a private one shows what they left.
const tmp = mkdtempSync(join(tmpdir(), 'gantry-bench-args-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bench = (args: string[], env: Record<string, string> = {}) => {
  const result = spawnSync(process.execPath, args, {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, TMPDIR: tmp, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stderr: result.stderr.trim(), stdout: result.stdout };
};
const benchFolders = () => readdirSync(tmp);
// A port nothing listens on.
const downPostgres = { GANTRY_TEST_POSTGRES: 'postgres://postgres@127.0.0.1:9' };

describe('bench command lines', () => {
  it.each([
    [
      ['bench/gateways.mjs', '--bogus'],
      /^bench\/gateways\.mjs: Unknown option '--bogus' \(--help lists the options\)$/,
    ],
    [['bench/gateways.mjs', '--count', '100,abc'], /--count must be a whole number of at least 1, not 'abc'/],
    [['bench/gateways.mjs', '--store', 'mysql'], /--store must be sqlite or postgres, not 'mysql'/],
    [
      ['bench/cluster.mjs', '--runs', '0'],
      /^bench\/cluster\.mjs: --runs must be a whole number of at least 1/,
    ],
    [
      ['bench/dispatch.mjs', '--pause-ms=-1'],
      /^bench\/dispatch\.mjs: --pause-ms must be a whole number of at least 0/,
    ],
    [
      ['bench/dispatch.mjs', '--runs', '-1'],
      /^bench\/dispatch\.mjs: Option '--runs' argument is ambiguous\. /,
    ],
    [['bench/dispatch.mjs', '--store', 'mysql'], /--store must be sqlite or postgres, not 'mysql'/],
    [['bench/chaos.mjs', '--bogus'], /^chaos: Unknown option '--bogus'/],
    [['bench/chaos.mjs', '--hubs', '2'], /^chaos: --hubs above 1 needs --store postgres/],
  ])('%j is one line, exit 2', (args, said) => {
    const result = bench(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(said);
    expect(benchFolders()).toEqual([]);
  });

  it.each([
    [['bench/gateways.mjs', '--store', 'postgres'], 'bench/gateways.mjs'],
    [['bench/cluster.mjs'], 'bench/cluster.mjs'],
    [['bench/dispatch.mjs'], 'bench/dispatch.mjs'],
    [['bench/chaos.mjs', '--store', 'postgres', '--hubs', '2'], 'chaos'],
  ])('%j with PostgreSQL down is one line, exit 1, nothing left', (args, name) => {
    const result = bench(args, downPostgres);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe(
      `${name}: cannot reach PostgreSQL at postgres://postgres@127.0.0.1:9 (connect ECONNREFUSED 127.0.0.1:9); start it, or set GANTRY_TEST_POSTGRES=postgres://USER@HOST:PORT`,
    );
    expect(benchFolders()).toEqual([]);
  });

  it('--help lists the flags and exits 0', () => {
    const result = bench(['bench/gateways.mjs', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--count');
  });
});
