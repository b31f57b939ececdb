// Chaos in the repository (issue 15), the short version CI runs: `bench/chaos.mjs` with one SQLite hub,
// three gateways and 20 assignments while 6 faults strike (the kinds below), must end with no violation
// and exit 0. The checker itself is shown to catch each kind of violation on made-up runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../bench/chaos.mjs', import.meta.url));
const checksPath = '../bench/chaos/checks.mjs';
/** The fault kinds the product handles today (see the README's Chaos section). */
const kinds = 'kill-hub,kill-gateway,stop-gateway,stop-hub';

interface Violation {
  kind: string;
  subject: string;
  detail: string;
}
type Check = (input: Record<string, unknown>) => Violation[];

const dir = mkdtempSync(join(tmpdir(), 'gantry-chaos-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChaos(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run chaos, short', () => {
  it('kills and freezes hubs and gateways while 20 assignments flow, and finds no violation', async () => {
    const out = join(dir, 'chaos.json');
    const args = ['--assignments', '20', '--faults', '6', '--gateways', '3', '--agents', '2'];
    const { code, output } = await runChaos([...args, '--kinds', kinds, '--seed', '15', '--out', out]);
    expect(code, output).toBe(0);
    const summary = JSON.parse(readFileSync(out, 'utf8')) as {
      assignments: number;
      faults: Record<string, number>;
      outcomes: Record<string, number>;
      providerRuns: number;
      violations: Violation[];
    };
    expect(summary.violations).toEqual([]);
    expect(summary.assignments).toBeGreaterThanOrEqual(20);
    expect(Object.values(summary.faults).reduce((a, b) => a + b, 0)).toBe(6);
    expect(summary.faults.skipped).toBeUndefined();
    expect(summary.outcomes.succeeded).toBeGreaterThan(10);
    expect(summary.providerRuns).toBeGreaterThanOrEqual(summary.outcomes.succeeded ?? 0);
  }, 240_000);
});

describe('the chaos checks', () => {
  const lines = (attempt: number, n: number, from = 1) =>
    Array.from({ length: n }, (_, i) => ({
      attempt,
      seq: i + 1,
      type: 'output',
      data: { text: `line ${from + i}` },
    }));
  const done = (attempt: number, seq: number, n: number) => ({
    attempt,
    seq,
    type: 'result',
    data: { text: `done ${n}` },
  });
  const good = {
    id: 'asg_good',
    prompt: 'chaos 1 lines=3 pause=0.02',
    state: 'succeeded',
    attempt: 2,
    result: { output: 'done 3' },
    events: [...lines(1, 1), ...lines(2, 3), done(2, 4, 3)],
  };
  const base = {
    runs: [],
    overlaps: [],
    cancelRequested: new Set<string>(),
    stale: [],
    left: { runs: [], processes: [] },
    exits: [],
    overlapGraceMs: 2000,
  };

  it('passes a run that was retried and then succeeded with all its lines', async () => {
    const { check } = (await import(checksPath)) as { check: Check };
    expect(check({ ...base, assignments: [good] })).toEqual([]);
  });

  it('names every kind of violation', async () => {
    const { check } = (await import(checksPath)) as { check: Check };
    const gap = {
      ...good,
      id: 'asg_gap',
      events: [...lines(2, 1), { ...lines(2, 3)[2]!, seq: 3 }, done(2, 4, 3)],
    };
    const short = { ...good, id: 'asg_short', events: [...lines(2, 2), done(2, 3, 3)] };
    const running = { ...good, id: 'asg_running', state: 'running', events: [] };
    const cancelled = { ...good, id: 'asg_cancelled', state: 'cancelled', events: [] };
    const failed = {
      ...good,
      id: 'asg_failed',
      state: 'failed',
      error: { code: 'provider_failed' },
      events: [],
    };
    const twin = { ...good, id: 'asg_twin' };
    const run = { assignment: 'asg_good', attempt: 1, gw: 'gw0' };
    const violations = check({
      ...base,
      // Each its own planned create (prompt), but the twin: a second assignment for good's.
      assignments: [
        good,
        ...[gap, short, running, cancelled, failed].map((a, i) => ({
          ...a,
          prompt: `chaos ${i + 2} lines=3 pause=0.02`,
        })),
        twin,
      ],
      runs: [
        { ...run, pid: 10 },
        { ...run, pid: 11 },
      ],
      overlaps: [
        {
          assignment: 'asg_good',
          older: { attempt: 1, gateway: 'gw0' },
          newer: { attempt: 2, gateway: 'gw1' },
          ms: 4000,
          unexcusedMs: 2500,
        },
      ],
      stale: [{ assignment: 'asg_good', attempt: 1, pid: 10 }],
      left: { runs: [], processes: [{ pid: 12, cmdline: 'gantry gateway start' }] },
      exits: [{ name: 'gw0', clean: false, detail: 'killed after 15 s' }],
    });
    expect(violations.map((v) => `${v.kind} ${v.subject}`).sort()).toEqual(
      [
        'events asg_gap', // a seq missing,
        'events asg_gap', // a line missing,
        'events asg_gap', // so the succeeded run is short
        'events asg_short',
        'twin asg_good asg_twin',
        'not_terminal asg_running',
        'cancelled_without_cancel asg_cancelled',
        'unexpected_state asg_failed',
        'ran_twice asg_good attempt 1',
        'overlap asg_good',
        'stale_run asg_good',
        'process_left pid 12',
        'unclean_exit gw0',
      ].sort(),
    );
  });
});
