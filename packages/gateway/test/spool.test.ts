// Proves a run through its supervisor (the spool): the provider sees the same lines and exit as on
// pipes; the spool is private (0700 folder, 0600 files) and holds no environment; a second reader
// taking the run back replays it from the start; a handover leaves the run going; and a
// supervisor whose daemon's heartbeat is older than lease + grace ends the run's process group; a
// spare supervisor started behind each run (once its provider is up) takes the next one and exits unused when the spool closes.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allowlistedEnv } from '../src/providers/environment.ts';
import { genericProvider } from '../src/providers/generic.ts';
import type { RunRequest } from '../src/providers/provider.ts';
import { Spool, supervisorAlive, type SpoolJob } from '../src/spool/run-spool.ts';
import { groupRunning } from '../../../test/processes.ts';

const graces = { interruptMs: 200, terminateMs: 200 };
let dir: string;
let spool: Spool;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-spool-'));
  spool = new Spool(join(dir, 'spool'));
  spool.prepare();
  spool.startHeartbeat();
});

afterEach(() => {
  spool.stopHeartbeat();
  rmSync(dir, { recursive: true, force: true });
});

function script(body: string): string {
  const path = join(dir, 'agent.sh');
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

const job = { runId: 'asg_1#1' } as SpoolJob;

function request(options: { attach?: boolean; leave?: AbortSignal; goneMs?: number } = {}) {
  const lines: string[] = [];
  const abort = new AbortController();
  const leave = options.leave ?? new AbortController().signal;
  const run: RunRequest = {
    assignment: {
      id: 'asg_1',
      attempt: 1,
      agentId: 'agt_1',
      agentName: 'tester',
      prompt: 'hello',
      sessionKey: 'default',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60_000,
    },
    workdir: dir,
    env: { ...allowlistedEnv(), GANTRY_RUN_ID: 'asg_1#1', SECRET_THING: 'sk-very-secret-value' },
    args: [],
    settings: {},
    signal: abort.signal,
    requestPermission: () => Promise.resolve('denied'),
    emit: (type, data) => {
      const said = data as Record<string, unknown>;
      lines.push(`${type}:${String(said.text ?? said.message ?? '')}`);
    },
    room: () => undefined,
    spool: spool.forRun('asg_1#1', options.goneMs ?? 60_000, leave, () => job, options.attach ?? false),
  };
  return { run, lines, abort };
}

describe('a run through its supervisor', () => {
  it('gives the provider the same lines and exit, in a private spool without the environment', async () => {
    const bin = script(
      'echo "out $1"; echo "err" >&2; echo "GANTRY_EVENT {\\"type\\":\\"status\\",\\"message\\":\\"s\\"}"; exit 3',
    );
    const first = request();
    const outcome = await genericProvider(bin, graces).run(first.run);
    expect(outcome).toMatchObject({ status: 'failed', exitCode: 3, output: 'out hello' });
    expect(outcome.error?.message).toContain('exited with code 3: err');
    // Each stream in its order (between stdout and stderr, as on pipes, there is none).
    expect(first.lines.filter((l) => !l.startsWith('log:'))).toEqual(['output:out hello', 'status:s']);
    expect(first.lines).toContain('log:err');

    const folder = spool.dirOf('asg_1#1');
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(folder)) expect(statSync(join(folder, name)).mode & 0o777).toBe(0o600);
    const spooled = readFileSync(join(folder, 'output.jsonl'), 'utf8');
    expect(spooled).not.toContain('sk-very-secret-value');
    expect(spooled.trim().split('\n').at(-1)).toBe('{"exit":3,"signal":null}');
    // The supervisor exits right after writing its exit line.
    for (const until = Date.now() + 5_000; supervisorAlive(folder) && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 20));
    expect(supervisorAlive(folder)).toBe(false);

    // Taken back by another reader: the same lines again, from the start, and the same outcome.
    const again = request({ attach: true });
    const replayed = await genericProvider(bin, graces).run(again.run);
    expect(replayed).toEqual(outcome);
    expect(again.lines).toEqual(first.lines);
  }, 30_000);

  it('splits output into lines as on pipes: at \\n, \\r\\n or a lone \\r, also across writes', async () => {
    // A CR ending one write and its LF starting the next make one line end; the last line has none.
    const bin = script(
      `printf 'a\\r\\nb\\rc\\n\\n\\303\\274 "q" \\\\\\n'; printf 'x\\r'; sleep 0.2; printf '\\ny\\rz'`,
    );
    const spooled = request();
    await genericProvider(bin, graces).run(spooled.run);
    const expected = ['a', 'b', 'c', '', 'ü "q" \\', 'x', 'y', 'z'].map((l) => `output:${l}`);
    expect(spooled.lines.filter((l) => l.startsWith('output:'))).toEqual(expected);
  });

  it('is left going on a handover, and taken back after it by another reader', async () => {
    const bin = script(`echo "begin"; while [ ! -f "${dir}/go" ]; do sleep 0.05; done; echo "end"`);
    const leaving = new AbortController();
    const first = request({ leave: leaving.signal });
    let settled = false;
    void genericProvider(bin, graces)
      .run(first.run)
      .finally(() => (settled = true));
    while (first.lines.length === 0) await new Promise((r) => setTimeout(r, 20));
    leaving.abort();
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
    expect(supervisorAlive(spool.dirOf('asg_1#1'))).toBe(true);

    const again = request({ attach: true });
    const taken = genericProvider(bin, graces).run(again.run);
    writeFileSync(join(dir, 'go'), '');
    expect(await taken).toMatchObject({ status: 'succeeded', output: 'begin\nend' });
    expect(again.lines).toEqual(['output:begin', 'output:end']);
  }, 30_000);

  it('ends the run’s process group once the daemon’s heartbeat is older than lease + grace', async () => {
    const bin = script('echo "$$"; sleep 30 & wait');
    const made = request({ goneMs: 400 });
    const running = genericProvider(bin, graces).run(made.run);
    while (made.lines.length === 0) await new Promise((r) => setTimeout(r, 20));
    const pgid = Number(made.lines[0]?.split(':')[1]);
    expect(groupRunning(pgid)).toBe(true);
    spool.stopHeartbeat();
    const old = new Date(Date.now() - 10_000);
    utimesSync(spool.aliveFile, old, old);
    // Lost (the hub has given the run up): the attempt runner reports it so.
    await expect(running).rejects.toMatchObject({
      code: 'gateway_lost',
      message: expect.stringContaining('gone past the lease and grace'),
    });
    expect(groupRunning(pgid)).toBe(false);
  }, 30_000);

  it('hands the next run to a spare started behind the last; an unused spare exits when the spool closes', async () => {
    const bin = script('echo "ran $1"');
    const marks: string[] = [];
    for (let i = 0; i < 2; i++) {
      expect(await genericProvider(bin, graces).run(request().run)).toMatchObject({ output: 'ran hello' });
      marks.push(readFileSync(join(spool.dirOf('asg_1#1'), 'supervisor.pid'), 'utf8').split('\n')[1] ?? '');
    }
    // The first run waited for a supervisor of its own; the second was given the spare.
    expect(marks[0]).toBe(spool.dirOf('asg_1#1'));
    expect(marks[1]).toMatch(/^spare-/);
    await waitFor(() => !supervisorAlive(spool.dirOf('asg_1#1')));
    await waitFor(() => sparesWaiting().length === 1);

    spool.stopHeartbeat();
    await waitFor(() => sparesWaiting().length === 0);
  }, 30_000);
});

/** Supervisors of this spool waiting for a run (Linux: read from /proc). */
function sparesWaiting(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.includes(spool.script) && args.some((a) => a.startsWith('spare-'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function waitFor(done: () => boolean): Promise<void> {
  for (const until = Date.now() + 5_000; !done(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > until) throw new Error('timed out waiting');
}
