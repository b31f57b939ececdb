// A gateway cut off from its hub past lease and grace (issue 10, item 11), through real processes.
// Frozen with SIGSTOP: while it sleeps, its running attempt is given up and a second assignment's
// offers to it lapse and are made again; on waking it must stop the stale run before anything else
// and report it lost, and its answers to the lapsed offers must not cost the live one: nothing ends
// `cancelled`. With its hub gone: it stops its run once lease and grace are past, without a word
// from the hub, and the run is retried when the hub is back.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Assignment, AuditEntry } from '@gantry/protocol';
import { eventually, Sandbox, sleep } from './harness.ts';
import { connectArgs, createAgent, startHub } from './fixtures.ts';
import { groupRunning } from './processes.ts';

/** Offers lapse after 2 s; a started attempt is given up half a second after its lease. */
const hubArgs = ['--lease-ms', '2000', '--heartbeat-ms', '200', '--grace-ms', '500'];

let box: Sandbox;
afterEach(() => box.cleanup());

/** Runs until stopped on its first attempt (a tick every 100 ms, its pid saved); attempt 2 answers. */
function sleeperScript(home: string) {
  const ticks = join(home, 'ticks');
  const pidFile = join(home, 'sleeper.pid');
  const body = `if [ "$GANTRY_ATTEMPT" = 1 ]; then echo $$ > ${pidFile}; while :; do echo tick >> ${ticks}; sleep 0.1; done; fi
echo "attempt $GANTRY_ATTEMPT done"`;
  const firstPid = async () =>
    Number(
      await eventually(async () =>
        existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() || undefined : undefined,
      ),
    );
  return { ticks, body, firstPid };
}

/** A run's process group is gone, and its output file stopped growing. */
async function stopped(pgid: number, ticks: string) {
  await eventually(async () => (groupRunning(pgid) ? undefined : true), 10_000);
  const size = statSync(ticks).size;
  await sleep(400);
  expect(statSync(ticks).size).toBe(size);
}

describe('a gateway frozen past its lease and grace', () => {
  it('stops its stale run on waking, reports it lost, and ignores its answers to lapsed offers', async () => {
    box = new Sandbox();
    const { hub, ready } = await startHub(box, hubArgs);
    const api = async <T>(path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${ready.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${ready.ownerToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const show = (id: string) => api<Assignment>(`/v1/assignments/${id}`);
    const until = (id: string, done: (a: Assignment) => boolean, ms = 20_000) =>
      eventually(async () => {
        const a = await show(id);
        return done(a) ? a : undefined;
      }, ms);

    // `quick` answers at once, in its own folder, several at a time (so the frozen gateway has room
    // for two offers of it).
    const { ticks, body, firstPid } = sleeperScript(box.home);
    const sleeperBin = box.script('sleeper.sh', body);
    const quickBin = box.script('quick.sh', 'echo "quick: $1"');
    const sleeper = await createAgent(box, 'sleeper');
    const quick = await createAgent(box, 'quick');
    expect((await box.run(connectArgs(ready.url, sleeper.key, 'generic', sleeperBin))).code).toBe(0);
    expect((await box.run(connectArgs(ready.url, quick.key, 'generic', quickBin))).code).toBe(0);
    const bound = await box.run(['gateway', 'bind', '--agent', 'quick', '--workdir', box.home, '--parallel']);
    expect(bound.code, bound.stderr).toBe(0);
    const gateway = box.start(['gateway', 'start', '--port', '0', '--json', '--concurrency', '3'], {
      GANTRY_STOP_GRACE_MS: '300',
    });
    await gateway.ready();

    const long = await api<Assignment>('/v1/assignments', { agent: 'sleeper', prompt: 'long', retries: 1 });
    await until(long.id, (a) => a.state === 'running');
    const pgid = await firstPid();
    expect(groupRunning(pgid)).toBe(true);

    gateway.proc.kill('SIGSTOP');
    let after: Assignment;
    try {
      // The hub gives the attempt up (lease + grace) and queues attempt 2 for when there is room.
      await until(long.id, (a) => a.attempt === 2, 15_000);
      // The frozen gateway still has room for `quick`: its first offer lapses and a second one of
      // the same attempt is made. Wake the gateway while that second offer stands.
      after = await api<Assignment>('/v1/assignments', { agent: 'quick', prompt: 'after the freeze' });
      const lapsed = `offer lapsed, requeued assignment=${after.id}`;
      await eventually(async () => (hub.stderr.includes(lapsed) ? true : undefined), 15_000);
      await until(after.id, (a) => a.state === 'offered', 2_000);
    } finally {
      gateway.proc.kill('SIGCONT');
    }

    // The stale run is stopped by the woken gateway, not left running beside attempt 2.
    await stopped(pgid, ticks);

    const quickDone = await until(after.id, (a) => a.state === 'succeeded' || a.state === 'cancelled');
    expect(quickDone).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      result: { output: 'quick: after the freeze' },
    });
    const longDone = await until(long.id, (a) => a.state === 'succeeded' || a.state === 'cancelled');
    expect(longDone).toMatchObject({ state: 'succeeded', attempt: 2, result: { output: 'attempt 2 done' } });
    const all = await api<Assignment[]>('/v1/assignments');
    expect(all.filter((a) => a.state === 'cancelled')).toEqual([]);

    // The woken gateway reported attempt 1 lost because it was cut off (before the hub's revoke
    // reached it); the hub had moved on, so that report is only in the audit log.
    const audit = await api<AuditEntry[]>('/v1/audit');
    const late = audit.find((e) => e.action === 'late_result' && e.subject === long.id);
    expect(late?.data).toMatchObject({
      attempt: 1,
      status: 'lost',
      error: { code: 'gateway_lost', message: expect.stringContaining('out of contact') },
    });
    const log = gateway.stderr;
    const cutOff = log.indexOf('out of contact with the hub past lease and grace');
    expect(cutOff).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('the hub revoked an attempt')).toBeGreaterThan(cutOff);
  }, 90_000);
});

describe('a gateway whose hub is gone past lease and grace', () => {
  it('stops its run by itself, and the hub back retries it', async () => {
    box = new Sandbox();
    const fast = ['--lease-ms', '1000', '--heartbeat-ms', '200', '--grace-ms', '1000'];
    const { hub, ready } = await startHub(box, fast);
    const { ticks, body, firstPid } = sleeperScript(box.home);
    const agent = await createAgent(box, 'sleeper');
    expect((await box.run(connectArgs(ready.url, agent.key, 'generic', box.script('s.sh', body)))).code).toBe(
      0,
    );
    const gateway = box.start(['gateway', 'start', '--port', '0', '--json'], { GANTRY_STOP_GRACE_MS: '300' });
    await gateway.ready();
    const created = await box.json<Assignment>(['assign', 'sleeper', 'long', '--retries', '1']);
    const pgid = await firstPid();
    await eventually(async () =>
      (await box.json<Assignment>(['assignments', 'show', created.id])).state === 'running'
        ? true
        : undefined,
    );

    hub.proc.kill('SIGKILL');
    await hub.exited;
    const gone = Date.now();
    await stopped(pgid, ticks);
    expect(Date.now() - gone).toBeGreaterThanOrEqual(1500); // not before lease and grace are past
    expect(gateway.stderr).toContain('out of contact with the hub past lease and grace');

    box.start(['hub', 'start', '--port', new URL(ready.url).port, '--json', ...fast]);
    const final = await eventually(async () => {
      const a = await box.json<Assignment>(['assignments', 'show', created.id]).catch(() => undefined);
      return a && (a.state === 'succeeded' || a.state === 'failed') ? a : undefined;
    }, 30_000);
    expect(final).toMatchObject({ state: 'succeeded', attempt: 2, result: { output: 'attempt 2 done' } });
  }, 90_000);
});
