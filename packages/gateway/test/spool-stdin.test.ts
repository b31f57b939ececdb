// Issue 14, runs of a protocol over stdin outlive the daemon: an ACP run (the scripted agent) goes
// through its supervisor, which keeps the agent's stdin and relays what a daemon writes to its
// socket. A daemon that takes the run back after a handover replays the conversation from the
// spool: the same events, nothing sent to the agent twice, a pending permission request asked
// again and its decision reaching the agent, a decided one answered the same without asking, and a
// cancel that stops the run.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acpProvider } from '../src/providers/acp.ts';
import { allowlistedEnv } from '../src/providers/environment.ts';
import type { PermissionRequest, RunRequest } from '../src/providers/provider.ts';
import { Spool, supervisorAlive, type SpoolJob } from '../src/spool/run-spool.ts';
import { groupRunning } from '../../../test/processes.ts';

const graces = { interruptMs: 300, terminateMs: 300 };
const agentBin = join(import.meta.dirname, '../../../test/fake-models/acp-agent.mjs');
const provider = () => acpProvider({ bin: agentBin, graces, settings: {}, stateDir: dir });
let dir: string;
let workdir: string;
let spool: Spool;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-spool-stdin-'));
  workdir = join(dir, 'work');
  // A data folder deep enough that a socket's name could not hold the full path (108 bytes).
  spool = new Spool(join(dir, 'a-data-folder-nested-deep-enough'.repeat(3), 'spool'));
  spool.prepare();
  spool.startHeartbeat();
  mkdirSync(workdir);
});

afterEach(() => {
  spool.stopHeartbeat();
  rmSync(dir, { recursive: true, force: true });
});

// Not the run id spool.test.ts uses: stopping a run also stops every process marked with its id,
// and the two files may run at once.
const runId = 'asg_2#1';

/** One daemon's view of the run: what it emitted and which permissions it was asked. */
function daemon(
  prompt: string,
  options: { attach?: boolean; decide?: (r: PermissionRequest) => Promise<'approved' | 'denied'> } = {},
) {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const asked: PermissionRequest[] = [];
  const abort = new AbortController();
  const leaving = new AbortController();
  const run: RunRequest = {
    assignment: {
      id: 'asg_2',
      attempt: 1,
      agentId: 'agt_1',
      agentName: 'tester',
      prompt,
      sessionKey: 'default',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60_000,
    },
    workdir,
    env: { ...allowlistedEnv(), GANTRY_RUN_ID: runId, SECRET_THING: 'sk-very-secret-value' },
    args: [],
    settings: { permission: 'ask' },
    signal: abort.signal,
    requestPermission: (request) => {
      asked.push(request);
      return options.decide ? options.decide(request) : new Promise(() => undefined);
    },
    emit: (type, data) => events.push({ type, data }),
    room: () => undefined,
    spool: spool.forRun(runId, 60_000, leaving.signal, () => ({ runId }) as SpoolJob, options.attach),
  };
  let settled = false;
  const outcome = provider().run(run);
  void outcome.finally(() => (settled = true));
  return { events, asked, abort, leaving, outcome, settled: () => settled };
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !check();) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const spooled = () => {
  try {
    return readFileSync(join(spool.dirOf(runId), 'output.jsonl'), 'utf8');
  } catch {
    return ''; // not yet written
  }
};

/** What daemons wrote to the agent, in order: each request's method, `answer` for a response. */
const sent = () =>
  spooled()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { i?: string; n?: unknown })
    .filter((record) => record.i !== undefined)
    .map((record) => (JSON.parse(record.i ?? '{}') as { method?: string; id?: number }).method ?? 'answer');

const types = (events: { type: string }[]) => events.map((e) => e.type);

describe('a run of a protocol over stdin through its supervisor', () => {
  it('is taken back while its permission request waits; the decision the new daemon gets reaches the agent', async () => {
    const first = daemon('edit');
    await until(() => first.asked.length === 1);
    const folder = spool.dirOf(runId);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(readdirSync(folder).sort()).toEqual(['in.sock', 'job.json', 'output.jsonl', 'supervisor.pid']);
    for (const name of readdirSync(folder)) expect(statSync(join(folder, name)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(folder, 'output.jsonl'), 'utf8')).not.toContain('sk-very-secret-value');
    first.leaving.abort(); // a handover: the run goes on
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(first.settled()).toBe(false);
    expect(supervisorAlive(folder)).toBe(true);

    const second = daemon('edit', { attach: true, decide: () => Promise.resolve('approved') });
    const outcome = await second.outcome;
    expect(outcome).toMatchObject({ status: 'succeeded', output: 'Wrote the notes.' });
    // Asked again, the same request; the events replay those of the first daemon, then go on.
    expect(second.asked).toEqual(first.asked);
    expect(types(second.events).slice(0, first.events.length)).toEqual(types(first.events));
    expect(second.events.slice(0, first.events.length).map((e) => e.data)).toEqual(
      first.events.map((e) => e.data),
    );
    expect(second.events.find((e) => e.type === 'tool_finished')?.data).toMatchObject({
      status: 'completed',
    });
    expect(types(second.events)).toContain('file_changed');
    // Each message went to the agent once.
    expect(sent()).toEqual(['initialize', 'session/new', 'session/prompt', 'answer']);
  }, 60_000);

  it('keeps a decision an earlier daemon made: it is not asked again', async () => {
    const first = daemon('edit hold', { decide: () => Promise.resolve('approved') });
    await until(() => sent().includes('answer'));
    first.leaving.abort();

    const second = daemon('edit hold', { attach: true });
    await until(() => second.events.length >= first.events.length);
    writeFileSync(join(workdir, 'go'), '');
    const outcome = await second.outcome;
    expect(outcome).toMatchObject({ status: 'succeeded', output: 'Wrote the notes.' });
    expect(second.asked).toEqual([]);
    expect(types(second.events).filter((t) => t.startsWith('permission_'))).toEqual([
      'permission_requested',
      'permission_decided',
    ]);
    expect(second.events.find((e) => e.type === 'permission_decided')?.data).toMatchObject({
      decision: 'approved',
    });
    expect(sent()).toEqual(['initialize', 'session/new', 'session/prompt', 'answer']);
  }, 60_000);

  it('is cancelled after it was taken back: the whole group is gone', async () => {
    const first = daemon('edit hold', { decide: () => Promise.resolve('approved') });
    await until(() => sent().includes('answer'));
    first.leaving.abort();
    const pid = Number(
      (
        JSON.parse(readFileSync(join(spool.dirOf(runId), 'output.jsonl'), 'utf8').split('\n')[0] ?? '{}') as {
          pid?: number;
        }
      ).pid,
    );
    expect(groupRunning(pid)).toBe(true);

    const second = daemon('edit hold', { attach: true });
    await until(() => second.events.length >= first.events.length);
    second.abort.abort();
    const outcome = await second.outcome;
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
    expect(groupRunning(pid)).toBe(false);
  }, 60_000);
});
