// Issue 14, runs outlive the gateway: each hub run goes through a detached supervisor that spools
// its output to data/spool/<run>/, so `kill -9` of the daemon or `gateway restart` loses nothing: the
// next daemon process takes the run back, its events reach the hub once and in order, and its
// result is delivered once, on the first attempt. A run whose gateway stays dead past lease and
// grace is ended by its supervisor (no process of it left) and the hub retries it. `gateway stop`
// still stops runs and hands them back.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { eventually, Sandbox, sleep } from '../harness.ts';
import { connectArgs, createAgent, startHub } from '../fixtures.ts';
import { groupRunning, markedRunning, processRunning } from '../processes.ts';

let box: Sandbox;
afterEach(async () => {
  await box.run(['gateway', 'stop']);
  await box.cleanup();
});

/** Says it began (with its process group), waits for `go-<prompt>` in the sandbox, then ends. */
const script = `
echo "begin $1 pgid=$(ps -o pgid= $$ | tr -d ' ')"
echo 'GANTRY_EVENT {"type":"status","message":"waiting"}'
while [ ! -f "$GANTRY_WORKDIR/../../go-$1" ]; do sleep 0.1; done
echo "end $1"
echo 'GANTRY_EVENT {"type":"result","text":"finished '"$1"'"}'
`;

async function setup(hubArgs: string[] = []) {
  box = new Sandbox();
  const { ready } = await startHub(box, hubArgs);
  const agent = await createAgent(box, 'worker');
  const bin = box.script('agent.sh', script);
  expect((await box.run(connectArgs(ready.url, agent.key, 'generic', bin))).code).toBe(0);
}

const env = { GANTRY_STOP_GRACE_MS: '300' };
const start = async () => {
  const started = await box.run(['gateway', 'start', '--detach', '--port', '0'], env);
  expect(started.code, started.stderr).toBe(0);
  return daemonPid();
};
const daemonPid = () => Number(readFileSync(join(box.home, 'data', 'gateway.pid'), 'utf8').trim());
const show = (id: string) => box.json<Assignment>(['assignments', 'show', id]);
const events = (id: string) => box.json<AssignmentEvent[]>(['assignments', 'events', id]);
const go = (prompt: string) => writeFileSync(join(box.home, `go-${prompt}`), '');
const spoolRuns = () =>
  readdirSync(join(box.home, 'data', 'spool'), { withFileTypes: true }).filter((e) => e.isDirectory());

async function running(prompt: string, args: string[] = []): Promise<{ id: string; pgid: number }> {
  const made = await box.json<Assignment>(['assign', 'worker', prompt, ...args]);
  const pgid = await eventually(async () => {
    const begin = (await events(made.id)).find((e) => String(e.data.text ?? '').startsWith('begin'));
    return begin ? Number(/pgid=(\d+)/.exec(String(begin.data.text))?.[1]) : undefined;
  });
  return { id: made.id, pgid };
}

async function finished(id: string): Promise<Assignment> {
  return eventually(async () => {
    const a = await show(id);
    return ['succeeded', 'failed', 'lost', 'cancelled', 'timed_out'].includes(a.state) ? a : undefined;
  }, 30_000);
}

/** Each event once, numbered 1.. without a gap, all of attempt 1. */
function once(list: AssignmentEvent[]) {
  expect(list.map((e) => e.seq)).toEqual(list.map((_e, i) => i + 1));
  expect(new Set(list.map((e) => e.attempt))).toEqual(new Set([1]));
}

describe('runs outlive the gateway', () => {
  it('a run survives kill -9 of the daemon, ends while it is down, and its result is delivered once', async () => {
    await setup();
    const first = await start();
    const run = await running('one');
    process.kill(first, 'SIGKILL');
    await eventually(async () => (processRunning(first) ? undefined : true));
    expect(groupRunning(run.pgid)).toBe(true); // the provider goes on without its daemon
    go('one'); // it ends while no daemon runs: its result waits in the spool

    await eventually(async () => (groupRunning(run.pgid) ? undefined : true));
    const second = await start();
    expect(second).not.toBe(first);
    const done = await finished(run.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 1, result: { output: 'finished one' } });
    const list = await events(run.id);
    once(list);
    expect(list.map((e) => e.data.text ?? e.data.message)).toEqual([
      expect.stringMatching(/^begin one pgid=/),
      'waiting',
      'end one',
      'finished one', // the result event
    ]);
    // Once the hub has the result, the run's spool is gone.
    await eventually(async () => (spoolRuns().length === 0 ? true : undefined));
  }, 240_000);

  it('a run still going is taken back after kill -9 and after `gateway restart`; output goes on in order', async () => {
    await setup();
    const first = await start();
    const run = await running('two');
    process.kill(first, 'SIGKILL');
    await eventually(async () => (processRunning(first) ? undefined : true));
    const second = await start();
    await eventually(async () => ((await box.run(['gateway', 'status'])).code === 0 ? true : undefined));
    await sleep(500);
    expect(groupRunning(run.pgid)).toBe(true);
    expect((await show(run.id)).state).toBe('running');

    const restarted = await box.run(['gateway', 'restart'], env);
    expect(restarted.code, restarted.stderr).toBe(0);
    const third = daemonPid();
    expect(third).not.toBe(second);
    expect(processRunning(second)).toBe(false);
    expect(groupRunning(run.pgid)).toBe(true); // the same process, never restarted
    go('two');

    const done = await finished(run.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 1, result: { output: 'finished two' } });
    const list = await events(run.id);
    once(list);
    expect(list.filter((e) => e.data.text === 'end two')).toHaveLength(1);
    await eventually(async () => (spoolRuns().length === 0 ? true : undefined));
  }, 240_000);

  it('a run whose gateway stays dead past lease and grace is ended by its supervisor; the hub retries it', async () => {
    await setup(['--lease-ms', '1000', '--heartbeat-ms', '200', '--grace-ms', '1000']);
    const first = await start();
    const run = await running('three', ['--retries', '1']);
    const marker = `${run.id}#1`;
    const gone = Date.now();
    process.kill(first, 'SIGKILL');
    // Lease + grace is 2 s: the supervisor ends the run's group after that, not before.
    await eventually(async () => (groupRunning(run.pgid) ? undefined : true), 20_000);
    expect(Date.now() - gone).toBeGreaterThanOrEqual(1500);
    expect(markedRunning(marker)).toBe(false);
    const supervisors = spoolRuns().map((e) => join(box.home, 'data', 'spool', e.name, 'supervisor.pid'));
    for (const file of supervisors.filter((f) => existsSync(f)))
      await eventually(async () =>
        processRunning(Number(readFileSync(file, 'utf8').split('\n')[0])) ? undefined : true,
      );

    // The gateway comes back: attempt 1 is lost (the hub decided), attempt 2 runs and succeeds.
    go('three');
    await start();
    const done = await finished(run.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2, result: { output: 'finished three' } });
  }, 240_000);

  it('`gateway stop` still stops runs and hands them back', async () => {
    await setup();
    const pid = await start();
    const run = await running('four');
    const stopped = await box.run(['gateway', 'stop'], env);
    expect(stopped.code).toBe(0);
    expect(processRunning(pid)).toBe(false);
    expect(groupRunning(run.pgid)).toBe(false);
    expect(markedRunning(`${run.id}#1`)).toBe(false);
    // Handed back: the hub fails it `gateway_lost` (no retry was asked for).
    expect(await show(run.id)).toMatchObject({ state: 'failed', error: { code: 'gateway_lost' } });
  }, 240_000);
});
