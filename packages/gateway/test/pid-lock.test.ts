// Proves the pid lock allows one gateway per folder, takes over a stale lock, and is removed on release.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryError } from '@gantry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquirePidLock } from '../src/state/pid-lock.ts';

let dir: string;
let lockPath: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-lock-'));
  lockPath = join(dir, 'gateway.pid');
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `sleep 5`, standing in for another live gateway daemon; resolves with its pid. */
async function liveProcess(): Promise<number> {
  const child = spawn('sleep', ['5'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child.pid!;
}

/** The pid of a process that has exited (and been reaped), so no process has it. */
async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function lockPid(): number {
  return Number(readFileSync(lockPath, 'utf8').trim());
}

describe('acquirePidLock', () => {
  it('writes this process pid into a fresh lock file, private to the user', () => {
    const lock = acquirePidLock(lockPath);
    expect(lockPid()).toBe(process.pid);
    expect(statSync(lockPath).mode & 0o777).toBe(0o600);
    lock.release();
  });

  it('refuses a second acquire while another live daemon holds the lock', async () => {
    const first = acquirePidLock(lockPath);
    const other = await liveProcess();
    writeFileSync(lockPath, `${other}\n`); // the lock now belongs to "another daemon"

    let thrown: unknown;
    try {
      acquirePidLock(lockPath);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GantryError);
    expect((thrown as GantryError).code).toBe('conflict');
    expect((thrown as GantryError).message).toContain(String(other));
    expect(lockPid()).toBe(other); // the holder's lock is left alone

    first.release();
  });

  it('takes over a lock file left by a process that is gone', async () => {
    const gone = await deadPid();
    writeFileSync(lockPath, `${gone}\n`);

    const lock = acquirePidLock(lockPath);

    expect(lockPid()).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock file with garbage in it', () => {
    writeFileSync(lockPath, 'not a pid\n');
    const lock = acquirePidLock(lockPath);
    expect(lockPid()).toBe(process.pid);
    lock.release();
  });

  it('release removes the file, so the lock can be taken again', () => {
    const lock = acquirePidLock(lockPath);
    expect(existsSync(lockPath)).toBe(true);

    lock.release();
    expect(existsSync(lockPath)).toBe(false);

    const again = acquirePidLock(lockPath);
    expect(lockPid()).toBe(process.pid);
    again.release();
    again.release(); // a second release is harmless
    expect(existsSync(lockPath)).toBe(false);
  });
});
