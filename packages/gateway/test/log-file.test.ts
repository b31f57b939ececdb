// The daemon's log file rotates by size, keeps the number of files asked for, and never splits a line.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogFile } from '../src/log-file.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LogFile', () => {
  it('rotates past maxBytes into .1, .2 and keeps `files` files in all', () => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-log-'));
    const path = join(dir, 'logs', 'gateway.log');
    const log = new LogFile(path, { maxBytes: 100, files: 3 });
    for (let i = 0; i < 40; i++) log.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(20)}\n`);
    log.close();
    expect(readdirSync(join(dir, 'logs')).sort()).toEqual(['gateway.log', 'gateway.log.1', 'gateway.log.2']);
    const lines = ['gateway.log.2', 'gateway.log.1', 'gateway.log'].flatMap((f) =>
      readFileSync(join(dir, 'logs', f), 'utf8')
        .trim()
        .split('\n'),
    );
    // The newest lines, in order, each whole.
    expect(lines.at(-1)).toMatch(/^line 39 x{20}$/);
    expect(lines.every((l) => /^line \d\d x{20}$/.test(l))).toBe(true);
    expect(lines.map((l) => Number(l.slice(5, 7)))).toEqual(
      Array.from({ length: lines.length }, (_, i) => 40 - lines.length + i),
    );
    for (const f of readdirSync(join(dir, 'logs')))
      expect(statSync(join(dir, 'logs', f)).size).toBeLessThanOrEqual(100);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('appends to the file a previous process left and counts its size', () => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-log-'));
    const path = join(dir, 'gateway.log');
    const first = new LogFile(path, { maxBytes: 50, files: 2 });
    first.write('a'.repeat(40) + '\n');
    first.close();
    const second = new LogFile(path, { maxBytes: 50, files: 2 });
    second.write('b'.repeat(20) + '\n');
    second.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('a'.repeat(40) + '\n');
    expect(readFileSync(path, 'utf8')).toBe('b'.repeat(20) + '\n');
  });
});
