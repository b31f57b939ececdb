// `gantry gateway watchdog --once` with no service manager: a killed gateway is started again, a
// hung (SIGSTOPped) one is replaced, each restart serves assignments, and three restarts in a row
// that do not bring it back log a critical line. The count is kept in watchdog-state.json.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { connectArgs, createAgent, startHub } from '../fixtures.ts';
import { eventually, Sandbox, sleep } from '../harness.ts';

interface Check {
  outcome: string;
  reason: string | null;
  pid: number | null;
  recovery: { how: string; detail: string } | null;
  consecutiveFailures: number;
  failedRecoveries: number;
  critical: string | null;
}

/** A server on the port, or undefined while the port is still busy (the killed gateway's socket closing). */
function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

describe('gantry gateway watchdog', () => {
  const hubBox = new Sandbox();
  const box = new Sandbox();
  const address = () =>
    JSON.parse(readFileSync(join(box.home, 'config', 'local-api.json'), 'utf8')) as {
      url: string;
      pid: number;
    };
  const state = () =>
    JSON.parse(readFileSync(join(box.home, 'data', 'watchdog-state.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  const check = async (...args: string[]) => {
    const ran = await box.run(
      ['gateway', 'watchdog', '--once', '--json', ...args],
      {},
      { timeoutMs: 60_000 },
    );
    return { code: ran.code, stderr: ran.stderr, check: JSON.parse(ran.stdout) as Check };
  };
  const serves = async () => {
    const done = await box.json<Assignment>(['assign', 'watched', 'still there?', '--wait', '30s']);
    expect(done.result?.output).toBe('echo: still there?');
  };

  beforeAll(async () => {
    const { ready } = await startHub(hubBox);
    const { key } = await createAgent(hubBox, 'watched');
    await box.run(['login', '--url', ready.url, '--token', ready.ownerToken]);
    const connected = await box.run(connectArgs(ready.url, key, 'echo'));
    expect(connected.code).toBe(0);
    await box.start(['gateway', 'start', '--port', '0', '--json']).ready();
  });
  afterAll(async () => {
    try {
      process.kill(address().pid, 'SIGKILL'); // a gateway the watchdog started is nobody's child here
    } catch {
      // already gone
    }
    await box.cleanup();
    await hubBox.cleanup();
  });

  it('finds a healthy gateway healthy', async () => {
    const { code, check: healthy } = await check();
    expect(code).toBe(0);
    expect(healthy).toMatchObject({ outcome: 'healthy', consecutiveFailures: 0, recovery: null });
  });

  it('starts a killed gateway again, on its port, and it serves', async () => {
    const before = address();
    process.kill(before.pid, 'SIGKILL');
    await eventually(async () => (alive(before.pid) ? undefined : true));
    const { code, check: revived } = await check();
    expect(code).toBe(0);
    expect(revived).toMatchObject({
      outcome: 'restarted',
      reason: 'dead',
      consecutiveFailures: 1,
      failedRecoveries: 0,
    });
    expect(revived.recovery?.how).toBe('direct');
    const after = address();
    expect(after.pid).not.toBe(before.pid);
    expect(after.url).toBe(before.url);
    expect(alive(after.pid)).toBe(true);
    await serves();
    expect(state()).toMatchObject({
      consecutiveFailures: 1,
      lastFailure: { reason: expect.stringMatching(/^dead/) },
    });
  });

  it('replaces a hung (SIGSTOPped) gateway', async () => {
    const hung = address();
    process.kill(hung.pid, 'SIGSTOP');
    const { code, check: replaced, stderr } = await check('--timeout', '1s');
    expect(
      code,
      `${stderr}${readFileSync(join(box.home, 'data', 'logs', 'watchdog-start.log'), 'utf8')}`,
    ).toBe(0);
    expect(replaced).toMatchObject({ outcome: 'restarted', reason: 'hung', pid: hung.pid });
    await eventually(async () => (alive(hung.pid) ? undefined : true));
    const after = address();
    expect(after.pid).not.toBe(hung.pid);
    expect(alive(after.pid)).toBe(true);
    await serves();
    const { check: healthy } = await check();
    expect(healthy).toMatchObject({ outcome: 'healthy', consecutiveFailures: 0 });
  });

  it('logs a critical line after three restarts in a row that did not bring it back', async () => {
    const before = address();
    process.kill(before.pid, 'SIGKILL');
    await eventually(async () => (alive(before.pid) ? undefined : true));
    // Something else takes the gateway's port, so every start fails.
    const blocker = await eventually(() => listenOn(Number(new URL(before.url).port)), 10_000);
    try {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await check());
      expect(runs.map((r) => [r.code, r.check.outcome, r.check.failedRecoveries])).toEqual([
        [1, 'failed', 1],
        [1, 'failed', 2],
        [1, 'failed', 3],
      ]);
      expect(runs[0]?.check.critical).toBeNull();
      expect(runs[1]?.stderr).not.toMatch(/ critical /);
      expect(runs[2]?.check.critical).toContain('still down after 3 restarts in a row');
      expect(runs[2]?.stderr).toMatch(
        /^\S+ critical watchdog: the gateway is still down after 3 restarts in a row/m,
      );
      expect(readFileSync(join(box.home, 'data', 'logs', 'watchdog.log'), 'utf8')).toMatch(
        / critical watchdog: /,
      );
      expect(state()).toMatchObject({ consecutiveFailures: 3, failedRecoveries: 3 });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    await sleep(100);
    const { code, check: back } = await check();
    expect(code).toBe(0);
    expect(back).toMatchObject({ outcome: 'restarted', failedRecoveries: 0 });
    await serves();
  });
});
