// `gantry assign` never makes twins (issue 15): every invocation sends an `Idempotency-Key`, and
// a create that cannot reach the hub (it is restarting, or failing over) is retried with the same
// key until it answers; `--idempotency-key K` lets a script rerun a create safely.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { eventually, Sandbox, sleep, type Service } from './harness.ts';
import { createAgent, startHub, type HubReady } from './fixtures.ts';

describe('gantry assign and Idempotency-Key', () => {
  const box = new Sandbox();
  let hub: { hub: Service; ready: HubReady };
  const list = async () => box.json<Assignment[]>(['assignments', 'list', '--agent', 'idem']);

  beforeAll(async () => {
    hub = await startHub(box);
    await createAgent(box, 'idem');
  });
  afterAll(() => box.cleanup());

  it('with --idempotency-key, a rerun answers the first assignment', async () => {
    const args = ['assign', 'idem', 'build it', '--idempotency-key', 'nightly-2026-12-06'];
    const first = await box.json<Assignment>(args);
    const again = await box.json<Assignment>(args);
    expect(again.id).toBe(first.id);
    const other = await box.run([
      'assign',
      'idem',
      'something else',
      '--idempotency-key',
      'nightly-2026-12-06',
    ]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("Idempotency-Key 'nightly-2026-12-06' was already used");
    expect(other.stderr).not.toContain('    at ');
    // Without the flag each invocation is a new assignment.
    await box.json(['assign', 'idem', 'build it']);
    expect(await list()).toHaveLength(2);
  });

  it('retries a create while the hub is down, and makes it once', async () => {
    const port = new URL(hub.ready.url).port;
    await hub.hub.stop();
    const pending = box.run(
      ['assign', 'idem', 'while the hub restarts', '--json'],
      {},
      { timeoutMs: 60_000 },
    );
    await sleep(1500);
    const restarted = box.start(['hub', 'start', '--port', port, '--json']);
    await restarted.ready();
    hub = { hub: restarted, ready: hub.ready };
    const result = await pending;
    expect(result.code, result.stderr).toBe(0);
    const created = JSON.parse(result.stdout) as Assignment;
    expect(created.prompt).toBe('while the hub restarts');
    expect((await list()).filter((a) => a.prompt === 'while the hub restarts')).toHaveLength(1);
  }, 60_000);

  it('a --wait whose hub dies names the assignment and how to follow it (exit 5)', async () => {
    // No gateway serves the agent: the assignment stays queued while the CLI waits.
    const waiting = box.start(['assign', 'idem', 'waits for a gateway', '--wait']);
    const queued = await eventually(async () =>
      (await list()).find((a) => a.prompt === 'waits for a gateway'),
    );
    await hub.hub.stop('SIGKILL');
    expect(await waiting.exited).toBe(5);
    expect(waiting.stderr).toContain('cannot reach the hub');
    expect(waiting.stderr).toContain(`${queued.id} goes on without this wait`);
    expect(waiting.stderr).toContain(`gantry assignments events ${queued.id} --follow`);
    expect(waiting.stderr).not.toContain('    at ');
  }, 60_000);
});
