// Issue 14, lifecycle of the daemon: `gateway start --detach` runs it in the background with a pid
// file, a log file and its settings recorded; `status` (exit 0 / 3), `logs`, `restart` (same
// settings, new process), `stop` (returns once it has exited) and `stop --drain` (running work
// finishes and its result is delivered first). Rotation of the log file: packages/gateway/test/log-file.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { eventually, Sandbox } from './harness.ts';
import { connectArgs, createAgent, startHub } from './fixtures.ts';
import { processRunning } from './processes.ts';

let box: Sandbox;
afterEach(async () => {
  await box.run(['gateway', 'stop']); // a detached daemon is no service of the sandbox's
  await box.cleanup();
});

interface Status {
  running: boolean;
  pid: number | null;
  uptimeS: number | null;
  mode: string | null;
  connected: boolean;
  hubs: { url: string; state: string }[];
  agents: { name: string }[];
  runningAttempts: { assignmentId: string }[];
  outboxDepth: number;
  lastError: { message: string } | null;
  logFile: string | null;
}

async function setup(script = 'echo "done: $1"') {
  box = new Sandbox();
  const { ready } = await startHub(box);
  const agent = await createAgent(box, 'worker');
  const bin = box.script('agent.sh', script);
  expect((await box.run(connectArgs(ready.url, agent.key, 'generic', bin))).code).toBe(0);
  return ready.url;
}

const status = async () => {
  const result = await box.run(['gateway', 'status', '--json']);
  return { code: result.code, view: JSON.parse(result.stdout) as Status };
};
const show = (id: string) => box.json<Assignment>(['assignments', 'show', id]);

describe('gantry gateway start --detach', () => {
  it('runs in the background; status, logs, restart with the same settings, and stop', async () => {
    const hubUrl = await setup();
    expect((await status()).code).toBe(3);

    const config = join(box.home, 'my.toml');
    writeFileSync(config, '[gateway]\nconcurrency = 3\n');
    const started = await box.run(['gateway', 'start', '--detach', '--port', '0', '--config', config]);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain('Gateway started in the background (pid ');

    const first = await eventually(async () => {
      const s = await status();
      return s.view.connected ? s : undefined;
    });
    expect(first.code).toBe(0);
    expect(first.view).toMatchObject({
      running: true,
      mode: 'detached',
      hubs: [{ url: hubUrl, state: 'connected' }],
      agents: [{ name: 'worker' }],
      runningAttempts: [],
      outboxDepth: 0,
    });
    expect(first.view.pid).toBeGreaterThan(0);
    expect(first.view.uptimeS).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(box.home, 'data', 'gateway.pid'), 'utf8').trim()).toBe(String(first.view.pid));
    const record = JSON.parse(readFileSync(join(box.home, 'data', 'daemon.json'), 'utf8'));
    expect(record.settings).toMatchObject({ port: 0, config });

    // It serves while the command that started it is long gone.
    const done = await box.json<Assignment>(['assign', 'worker', 'hello', '--wait']);
    expect(done).toMatchObject({ state: 'succeeded', result: { output: 'done: hello' } });

    const logs = await box.run(['gateway', 'logs', '-n', '5']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('serving worker');
    expect(logs.stdout.trim().split('\n').length).toBeLessThanOrEqual(5);
    const text = await box.run(['gateway', 'status']);
    expect(text.stdout).toMatch(/running \(pid \d+, up .*detached\)/);

    const restarted = await box.run(['gateway', 'restart']);
    expect(restarted.code).toBe(0);
    const second = await eventually(async () => {
      const s = await status();
      return s.view.connected ? s : undefined;
    });
    expect(second.view.pid).not.toBe(first.view.pid);
    expect(processRunning(first.view.pid!)).toBe(false);
    expect(JSON.parse(readFileSync(join(box.home, 'data', 'daemon.json'), 'utf8')).settings).toMatchObject({
      port: 0,
      config,
    });

    const stopped = await box.run(['gateway', 'stop']);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain(`Stopped the gateway (pid ${second.view.pid})`);
    // `stop` returned once the daemon had exited.
    expect(processRunning(second.view.pid!)).toBe(false);
    const after = await status();
    expect(after.code).toBe(3);
    expect(after.view).toMatchObject({ running: false, pid: null });
    expect((await box.run(['gateway', 'stop'])).stdout).toContain('not running');
  }, 120_000);

  it('says why it did not start, with an exit code', async () => {
    box = new Sandbox();
    const result = await box.run(['gateway', 'start', '--detach', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no saved gateway session');
  });
});

describe('gantry gateway stop --drain', () => {
  it('takes no new work, lets the running assignment finish and delivers its result, then exits', async () => {
    await setup(
      'echo "started $1"; while [ ! -f "$GANTRY_WORKDIR/../../go" ]; do sleep 0.1; done; echo "finished $1"',
    );
    expect((await box.run(['gateway', 'start', '--detach', '--port', '0'])).code).toBe(0);
    const running = await box.json<Assignment>(['assign', 'worker', 'long']);
    await eventually(async () => ((await show(running.id)).state === 'running' ? true : undefined));

    const stop = box.run(['gateway', 'stop', '--drain', '--timeout', '30s']);
    await eventually(async () =>
      (await box.run(['gateway', 'status'])).stdout.includes('DRAINING') ? true : undefined,
    );
    const queued = await box.json<Assignment>(['assign', 'worker', 'later']);
    writeFileSync(join(box.home, 'go'), '');
    expect((await stop).code).toBe(0);
    expect(await show(running.id)).toMatchObject({
      state: 'succeeded',
      result: { output: 'started long\nfinished long' },
    });
    expect((await show(queued.id)).state).toBe('queued');
    expect((await status()).code).toBe(3);
  }, 120_000);
});
