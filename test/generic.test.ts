// A hub and a gateway as separate processes: the generic provider's structured events, two agents on one
// gateway, cancel and timeout that stop the process group, and a --wait the run outlives.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { eventually, Sandbox } from './harness.ts';
import { groupRunning } from './processes.ts';
import { createAgent, startHub, structuredScript } from './fixtures.ts';

describe('generic provider through a real hub and gateway', () => {
  const box = new Sandbox();
  let markerDir: string;

  beforeAll(async () => {
    const { ready } = await startHub(box);
    markerDir = join(box.home, 'markers');
    const worker = await createAgent(box, 'worker');
    const helper = await createAgent(box, 'helper');
    const bin = box.script(
      'agent.sh',
      `${structuredScript}
case "$1" in
  *slow*) mkdir -p ${markerDir}; echo $$ > ${markerDir}/$GANTRY_ASSIGNMENT_ID; sleep 60 & sleep 60 ;;
  *fail*) echo "bad input" >&2; exit 7 ;;
  *nap*) sleep 1.5 ;;
  *deep*) printf 'GANTRY_EVENT {"type":"status","message":"deep","detail":%s%s}\n' "$(printf '[%.0s' $(seq 200))" "$(printf ']%.0s' $(seq 200))" ;;
esac`,
    );
    const connect = (key: string, provider: string) =>
      box.json([
        'gateway',
        'connect',
        '--server-url',
        ready.url,
        '--provider',
        provider,
        '--provider-bin',
        bin,
        '--api-key',
        key,
      ]);
    await connect(worker.key, 'generic');
    await connect(helper.key, 'echo');
    await box.start(['gateway', 'start', '--port', '0', '--json'], { GANTRY_STOP_GRACE_MS: '300' }).ready();
  });
  afterAll(() => box.cleanup());

  it('streams structured events in order and takes the result event as the output', async () => {
    const run = await box.run(['assign', 'worker', 'fix the bug', '--follow', '--json']);
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AssignmentEvent & Assignment);
    const final = lines.pop() as Assignment;
    const events = lines as AssignmentEvent[];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toEqual([
      'output',
      'status',
      'tool_started',
      'tool_finished',
      'session',
      'output',
      'result',
    ]);
    expect(events[0]?.data).toEqual({ text: 'working on: fix the bug' });
    expect(events[1]?.data).toEqual({
      message: 'reading',
      progress: { current: 1, total: 2, unit: 'files' },
    });
    expect(final).toMatchObject({ state: 'succeeded', result: { output: 'all done', exitCode: 0 } });
  });

  it("cuts a provider's event nested deeper than the hub reads, and the run goes through", async () => {
    const done = await box.json<Assignment>(['assign', 'worker', 'go deep', '--wait', '30s']);
    expect(done).toMatchObject({ state: 'succeeded' });
    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', done.id]);
    const deep = events.find((e) => e.type === 'status' && e.data.message === 'deep');
    // The event's data sits three levels down in its frame: 61 levels of it are kept.
    let detail: unknown = deep?.data.detail;
    for (let level = 2; level <= 61; level += 1) {
      expect(Array.isArray(detail), `level ${level}`).toBe(true);
      detail = (detail as unknown[])[0];
    }
    expect(detail).toBe('[nested too deep]');
  });

  it('continues a session with the id the provider reported', async () => {
    await box.json(['assign', 'worker', 'first', '--session', 'topic', '--wait']);
    const next = await box.json<Assignment>([
      'assign',
      'worker',
      'second',
      '--session',
      'topic',
      '--continue',
      '--wait',
    ]);
    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', next.id]);
    expect(events.map((e) => e.data.text)).toContainEqual(
      expect.stringContaining('resume=conv-1 agent=worker'),
    );
  });

  it('serves two agents from one gateway, each with its own provider', async () => {
    const [a, b] = await Promise.all([
      box.json<Assignment>(['assign', 'worker', 'one', '--wait']),
      box.json<Assignment>(['assign', 'helper', 'two', '--wait']),
    ]);
    expect(a.result?.output).toBe('all done');
    expect(b.result?.output).toBe('echo: two');
    expect(a.gatewayId).toBe(b.gatewayId);
    const gateways = await box.json<{ agents: { name: string; provider: string }[] }[]>(['gateways', 'list']);
    expect(gateways).toHaveLength(1);
    expect(gateways[0]?.agents).toEqual([
      expect.objectContaining({ name: 'helper', provider: 'echo' }),
      expect.objectContaining({ name: 'worker', provider: 'generic' }),
    ]);
  });

  it('runs one assignment at a time per agent, and several at once for a parallel binding', async () => {
    const spans = async (agent: string) => {
      const runs = await Promise.all(
        ['a', 'b'].map((p) => box.json<Assignment>(['assign', agent, `nap ${p}`, '--wait'])),
      );
      const [first, second] = runs
        .map((a) => ({ start: Date.parse(a.startedAt ?? ''), end: Date.parse(a.finishedAt ?? '') }))
        .sort((x, y) => x.start - y.start);
      return { first: first!, second: second! };
    };
    const serial = await spans('worker');
    expect(serial.second.start).toBeGreaterThanOrEqual(serial.first.end);

    const bind = await box.run(['gateway', 'bind', '--agent', 'worker', '--workdir', box.home, '--parallel']);
    expect(bind.code).toBe(0);
    // The daemon picks the binding up from its file; its next heartbeat tells the hub.
    await eventually(async () => {
      const status = await box.json<{ agents: { name: string; parallel: boolean }[] }>(['gateway', 'status']);
      return status.agents.find((a) => a.name === 'worker')?.parallel ? true : undefined;
    });
    const parallel = await spans('worker');
    expect(parallel.second.start).toBeLessThan(parallel.first.end);
  });

  it('fails with the exit code and the tail of stderr', async () => {
    const run = await box.run(['assign', 'worker', 'please fail', '--wait', '--json']);
    expect(run.code).toBe(1);
    const final = JSON.parse(run.stdout) as Assignment;
    expect(final).toMatchObject({
      state: 'failed',
      result: { exitCode: 7 },
      error: { code: 'provider_failed' },
    });
    expect(final.error?.message).toContain('bad input');
  });

  it('cancels a running assignment and stops its whole process group', async () => {
    const created = await box.json<Assignment>(['assign', 'worker', 'slow work']);
    const marker = join(markerDir, created.id);
    await eventually(async () => (existsSync(marker) ? true : undefined));
    const pgid = Number(readFileSync(marker, 'utf8'));
    expect(groupRunning(pgid)).toBe(true);
    const cancel = await box.run(['assignments', 'cancel', created.id]);
    expect(cancel.code).toBe(0);
    const final = await eventually(async () => {
      const a = await box.json<Assignment>(['assignments', 'show', created.id]);
      return a.state === 'cancelled' ? a : undefined;
    });
    expect(final.error?.code).toBe('cancelled');
    expect(groupRunning(pgid)).toBe(false);
  });

  it('times a run out and stops it', async () => {
    const run = await box.run(['assign', 'worker', 'slow again', '--timeout', '500ms', '--wait', '--json']);
    expect(run.code).toBe(1);
    const final = JSON.parse(run.stdout) as Assignment;
    expect(final).toMatchObject({ state: 'timed_out', error: { code: 'timed_out' } });
    expect(groupRunning(Number(readFileSync(join(markerDir, final.id), 'utf8')))).toBe(false);
  });

  it('exits 124 when the run outlives --wait, and the run goes on', async () => {
    const run = await box.run(['assign', 'worker', 'slow once more', '--wait', '300ms', '--json']);
    expect(run.code).toBe(124);
    const pending = JSON.parse(run.stdout) as Assignment;
    expect(['queued', 'offered', 'starting', 'running']).toContain(pending.state);
    expect(run.stderr).toContain(`gantry assignments events ${pending.id} --follow`);
    await box.run(['assignments', 'cancel', pending.id]);
  });
});
