// Delivery guarantees through real processes: cancel reaches every process of a run, a gateway killed
// with -9 ends its attempt `gateway_lost` (or is retried), a hub killed with -9 mid-stream loses,
// repeats and reorders no event, and a gateway that starts before its hub serves once it is up.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { eventually, Sandbox, type Service } from './harness.ts';
import { connectArgs, createAgent, startHub } from './fixtures.ts';
import { groupRunning, processRunning } from './processes.ts';

/** Short lease, heartbeat and grace so lost gateways are noticed in about two seconds. */
const fastHub = ['--lease-ms', '1000', '--heartbeat-ms', '200', '--grace-ms', '1000'];
const fastStop = { GANTRY_STOP_GRACE_MS: '300' };

let box: Sandbox;
afterEach(() => box.cleanup());

async function setup(script: string, hubArgs: string[] = fastHub) {
  box = new Sandbox();
  const { hub, ready } = await startHub(box, hubArgs);
  const agent = await createAgent(box, 'worker');
  const bin = box.script('agent.sh', script);
  const connect = await box.run(connectArgs(ready.url, agent.key, 'generic', bin));
  expect(connect.code).toBe(0);
  return { hub, url: ready.url, port: new URL(ready.url).port };
}

const startGateway = async () => {
  const gateway = box.start(['gateway', 'start', '--port', '0', '--json'], fastStop);
  await gateway.ready();
  return gateway;
};

const show = (id: string) => box.json<Assignment>(['assignments', 'show', id]);
/** Polls until the assignment is as asked; a hub that is down for a moment just means "not yet". */
const until = (id: string, done: (a: Assignment) => boolean, ms = 20_000) =>
  eventually(async () => {
    const a = await show(id).catch(() => undefined);
    return a && done(a) ? a : undefined;
  }, ms);
const marker = (name: string) => join(box.home, `${name}.pids`);
/** The pids the script wrote: once its line is whole (the shell creates the file before it writes). */
const pidsOf = (name: string) =>
  eventually(async () => {
    const text = existsSync(marker(name)) ? readFileSync(marker(name), 'utf8') : '';
    return text.endsWith('\n') ? text.trim().split(/\s+/).map(Number) : undefined;
  });

describe('cancel', () => {
  it('stops the whole tree: a grandchild, a job ignoring SIGINT, and a process that left the group', async () => {
    await setup(`
sh -c 'sleep 60' &
grandchild=$!
setsid sleep 61 &
escaped=$!
echo "$$ $grandchild $escaped" > "$GANTRY_WORKDIR/../../$1.pids"
sleep 60`);
    await startGateway();
    const created = await box.json<Assignment>(['assign', 'worker', 'tree']);
    const [pgid, grandchild, escaped] = await pidsOf('tree');
    expect(groupRunning(pgid!)).toBe(true);
    expect(processRunning(escaped!)).toBe(true);

    expect((await box.run(['assignments', 'cancel', created.id])).code).toBe(0);
    const final = await until(created.id, (a) => a.state === 'cancelled');
    expect(final.error?.code).toBe('cancelled');
    expect(groupRunning(pgid!)).toBe(false);
    expect(processRunning(grandchild!)).toBe(false);
    expect(processRunning(escaped!)).toBe(false);
  });
});

describe('a gateway killed with -9', () => {
  const script = `
if [ "$GANTRY_ATTEMPT" = 1 ]; then echo "$$" > "$GANTRY_WORKDIR/../../$1.pids"; echo started; sleep 60; fi
echo "attempt $GANTRY_ATTEMPT done"`;

  async function killMidRun(prompt: string, retries: string) {
    const gateway = await startGateway();
    const created = await box.json<Assignment>(['assign', 'worker', prompt, '--retries', retries]);
    const [pgid] = await pidsOf(prompt);
    await until(created.id, (a) => a.state === 'running');
    gateway.proc.kill('SIGKILL');
    await gateway.exited;
    return { created, pgid: pgid! };
  }

  it('ends its attempt gateway_lost when the assignment has no retries', async () => {
    await setup(script);
    const { created, pgid } = await killMidRun('lost', '0');
    const final = await until(created.id, (a) => a.state === 'failed');
    expect(final).toMatchObject({ attempt: 1, error: { code: 'gateway_lost' } });
    // The orphaned run is stopped when the gateway comes back.
    await startGateway();
    await eventually(async () => (groupRunning(pgid) ? undefined : true));
  });

  it('with --retries 1, a restarted gateway stops the orphan and completes attempt 2', async () => {
    await setup(script);
    const { created, pgid } = await killMidRun('retry', '1');
    expect(groupRunning(pgid)).toBe(true);
    await startGateway();
    const final = await until(created.id, (a) => a.state === 'succeeded');
    expect(final).toMatchObject({ attempt: 2, result: { output: 'attempt 2 done' } });
    expect(groupRunning(pgid)).toBe(false);
    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', created.id]);
    expect(events.map((e) => [e.attempt, e.seq, e.data.text])).toEqual([
      [1, 1, 'started'],
      [2, 1, 'attempt 2 done'],
    ]);
  });
});

describe('a hub killed with -9 while a run streams', () => {
  it('loses, repeats and reorders no line, for the stored events and for a following client', async () => {
    const lines = 600;
    const { hub, port } = await setup(
      `i=1; while [ $i -le ${lines} ]; do echo "line $i"; [ $((i % 40)) = 0 ] && sleep 0.05; i=$((i + 1)); done`,
    );
    await startGateway();
    const follower: Service = box.start(['assign', 'worker', 'stream', '--follow', '--json']);
    await eventually(async () => (follower.stdout.split('\n').length > 60 ? true : undefined));
    hub.proc.kill('SIGKILL');
    await hub.exited;
    box.start(['hub', 'start', '--port', port, '--json', ...fastHub]);

    expect(await follower.exited).toBe(0);
    const out = follower.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AssignmentEvent & Assignment);
    const final = out.pop() as Assignment;
    expect(final.state).toBe('succeeded');
    const expected = Array.from({ length: lines }, (_, i) => `line ${i + 1}`);
    expect(out.map((e) => e.data.text)).toEqual(expected);
    expect(out.map((e) => e.seq)).toEqual(expected.map((_, i) => i + 1));

    const stored = await box.json<AssignmentEvent[]>(['assignments', 'events', final.id]);
    expect(stored.map((e) => e.data.text)).toEqual(expected);
  });
});

describe('a gateway started before its hub', () => {
  it('keeps trying, connects when the hub is up, and runs the work queued meanwhile', async () => {
    const { hub, port } = await setup('echo "ran: $1"');
    const queued = await box.json<Assignment>(['assign', 'worker', 'queued early']);
    await hub.stop();
    const gateway = await startGateway();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const status = await box.json<{ running: boolean; connected: boolean }>(['gateway', 'status']);
    expect(status).toMatchObject({ running: true, connected: false });
    expect(gateway.proc.exitCode).toBeNull();

    box.start(['hub', 'start', '--port', port, '--json', ...fastHub]);
    const final = await until(queued.id, (a) => a.state === 'succeeded');
    expect(final.result?.output).toBe('ran: queued early');
  });
});

describe('a gateway stopped with SIGTERM mid-run', () => {
  it('stops the run, reports it, exits 0, and a restart runs the retry', async () => {
    await setup(`
if [ "$GANTRY_ATTEMPT" = 1 ]; then echo "$$" > "$GANTRY_WORKDIR/../../$1.pids"; sleep 60; fi
echo "attempt $GANTRY_ATTEMPT done"`);
    const gateway = await startGateway();
    const created = await box.json<Assignment>(['assign', 'worker', 'graceful', '--retries', '1']);
    const [pgid] = await pidsOf('graceful');
    await until(created.id, (a) => a.state === 'running');
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(groupRunning(pgid!)).toBe(false);
    // The hub heard the attempt was lost and queued attempt 2 at once, with no lease to wait out.
    const requeued = await until(created.id, (a) => a.attempt === 2, 3_000);
    expect(requeued.state).toBe('queued');
    await startGateway();
    const final = await until(created.id, (a) => a.state === 'succeeded');
    expect(final.result?.output).toBe('attempt 2 done');
  });
});

describe('the queue TTL', () => {
  it('expires work no gateway picks up in time', async () => {
    await setup('echo never', [...fastHub, '--queue-ttl-ms', '300']);
    const created = await box.json<Assignment>(['assign', 'worker', 'nobody home']);
    const final = await until(created.id, (a) => a.state === 'expired', 5_000);
    expect(final.error?.code).toBe('expired');
  });
});
