// A run's supervisor starts its run as soon as the run's line is on its stdin, while the daemon's
// end of the pipe is still open (a daemon closes it only after the run's other work); a run written
// without a line end starts when the pipe closes, and a spare whose pipe closes empty exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Spool } from '../src/spool/run-spool.ts';

let dir: string;
let spool: Spool;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-supervisor-start-'));
  spool = new Spool(join(dir, 'spool'));
  spool.prepare();
  spool.startHeartbeat();
});

afterEach(() => {
  spool.stopHeartbeat();
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function supervisor(runDir: string): ChildProcess {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const child = spawn(process.execPath, [spool.script, runDir], {
    cwd: spool.root,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

const job = (runDir: string) =>
  JSON.stringify({
    dir: runDir,
    bin: '/bin/sh',
    args: ['-c', 'echo started'],
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    aliveFile: spool.aliveFile,
    goneMs: 60_000,
    graces: { interruptMs: 300, terminateMs: 300 },
    stdin: 'ignore',
  });

/** The run's spooled lines once its exit line is there (at most 10 s). */
async function spooled(runDir: string): Promise<Record<string, unknown>[]> {
  const file = join(runDir, 'output.jsonl');
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      if (lines.some((line) => 'exit' in line)) return lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no exit line in ${file}`);
}

it('starts the run on its line, with the pipe still open', async () => {
  const runDir = join(spool.root, 'run-line');
  const child = supervisor(runDir);
  child.stdin?.write(`${job(runDir)}\n`);
  const lines = await spooled(runDir);
  expect(lines).toContainEqual({ o: 'started' });
  expect(lines.at(-1)).toMatchObject({ exit: 0 });
  child.stdin?.end();
});

it('starts a run written without a line end once the pipe closes', async () => {
  const runDir = join(spool.root, 'run-end');
  const child = supervisor(runDir);
  child.stdin?.end(job(runDir));
  const lines = await spooled(runDir);
  expect(lines).toContainEqual({ o: 'started' });
});

it('lets a spare whose pipe closes empty exit', async () => {
  const child = supervisor(join(spool.root, 'spare'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  expect(await exited).toBe(0);
});
