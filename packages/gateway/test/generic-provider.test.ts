// Proves the generic provider runs real commands correctly: events, output, args, env, failures and stopping.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allowlistedEnv } from '../src/providers/environment.ts';
import { genericProvider } from '../src/providers/generic.ts';
import type { RunRequest } from '../src/providers/provider.ts';
import { groupRunning, processRunning } from '../../../test/processes.ts';

interface Recorded {
  type: string;
  data: Record<string, unknown>;
}

const fastGraces = { interruptMs: 200, terminateMs: 200 };

let dir: string;
let workdir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-generic-'));
  workdir = mkdtempSync(join(tmpdir(), 'gantry-workdir-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(workdir, { recursive: true, force: true });
});

/** Writes an executable `#!/bin/sh` script into the temp folder and returns its path. */
function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

/** A RunRequest for one attempt, recording every emitted event; `onEvent` sees each as it arrives. */
function makeRequest(
  options: {
    prompt?: string;
    args?: string[];
    onEvent?: (e: Recorded) => void;
    room?: () => Promise<void> | undefined;
  } = {},
) {
  const events: Recorded[] = [];
  const controller = new AbortController();
  const request: RunRequest = {
    assignment: {
      id: 'asg_1',
      attempt: 1,
      agentId: 'agt_1',
      agentName: 'tester',
      prompt: options.prompt ?? 'hello there',
      sessionKey: 'default',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60_000,
    },
    workdir,
    env: { ...allowlistedEnv(), GANTRY_X: '1' },
    args: options.args ?? [],
    settings: {},
    signal: controller.signal,
    requestPermission: () => Promise.resolve('denied'),
    emit(type, data) {
      const event = { type, data };
      events.push(event);
      options.onEvent?.(event);
    },
    room: options.room ?? (() => undefined),
  };
  return { request, events, controller };
}

/** A request plus a promise of the pids the script prints on its first output line (`pgid [bgpid]`). */
function requestWithPids() {
  let gotPids: (pids: number[]) => void = () => {};
  const pids = new Promise<number[]>((resolve) => (gotPids = resolve));
  const made = makeRequest({
    onEvent: (event) => {
      if (event.type === 'output') gotPids(String(event.data.text).split(' ').map(Number));
    },
  });
  return { ...made, pids };
}

/** Whether a live (not zombie) process has SIGINT ignored, read from /proc (Linux). */
function ignoresSigint(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    const ignored = BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
    return state !== 'Z' && (ignored & 2n) !== 0n;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('generic provider: output and events', () => {
  it('passes structured events through in order (older tool event names read as the vocabulary), with the result text as output and the session id', async () => {
    const bin = script(
      'structured.sh',
      [
        `echo 'GANTRY_EVENT {"type":"status","text":"thinking"}'`,
        `echo 'plain line'`,
        `echo 'GANTRY_EVENT {"type":"tool_start","tool":"grep","input":{"q":"x"}}'`,
        `echo 'GANTRY_EVENT {"type":"tool_result","tool":"grep","ok":true}'`,
        `echo 'GANTRY_EVENT {"type":"session","id":"sess-42"}'`,
        `echo 'GANTRY_EVENT {"type":"result","text":"final answer"}'`,
      ].join('\n'),
    );
    const { request, events } = makeRequest();

    const outcome = await genericProvider(bin).run(request);

    expect(events).toEqual([
      { type: 'status', data: { text: 'thinking' } },
      { type: 'output', data: { text: 'plain line' } },
      { type: 'tool_started', data: { tool: 'grep', input: { q: 'x' } } },
      { type: 'tool_finished', data: { tool: 'grep', ok: true } },
      { type: 'session', data: { id: 'sess-42' } },
      { type: 'result', data: { text: 'final answer' } },
    ]);
    expect(outcome).toMatchObject({
      status: 'succeeded',
      output: 'final answer',
      exitCode: 0,
      sessionId: 'sess-42',
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.pid).toEqual(expect.any(Number));
  });

  it('without a result event, the output is the plain stdout lines joined by newlines', async () => {
    const bin = script(
      'plain.sh',
      ['echo one', `echo 'GANTRY_EVENT {"type":"status","text":"busy"}'`, 'echo two', 'echo three'].join(
        '\n',
      ),
    );
    const { request, events } = makeRequest();

    const outcome = await genericProvider(bin).run(request);

    expect(outcome.status).toBe('succeeded');
    expect(outcome.output).toBe('one\ntwo\nthree');
    expect(outcome.sessionId).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['output', 'status', 'output', 'output']);
  });

  it('treats an invalid GANTRY_EVENT line as plain output', async () => {
    const bin = script('invalid.sh', ['echo "GANTRY_EVENT not-json"', 'echo after'].join('\n'));
    const { request, events } = makeRequest();

    const outcome = await genericProvider(bin).run(request);

    expect(events).toEqual([
      { type: 'output', data: { text: 'GANTRY_EVENT not-json' } },
      { type: 'output', data: { text: 'after' } },
    ]);
    expect(outcome.output).toBe('GANTRY_EVENT not-json\nafter');
  });
});

describe('generic provider: back-pressure', () => {
  it('holds a producer while the outbox has no room, then delivers every line in order', async () => {
    // Far more than a pipe and a read buffer hold, so the script must block while reading is held.
    const bin = script('flood.sh', 'seq 1 300000');
    let calls = 0;
    let blockedUntil = 0;
    const { request, events } = makeRequest({
      // No room for 800 ms after the 100th line (longer than the provider waits for its pipes after an
      // exit, so a producer that exits meanwhile must not lose lines); room afterwards.
      room: () => {
        calls += 1;
        if (events.length < 100 || blockedUntil !== 0) return undefined;
        blockedUntil = Date.now() + 800;
        return new Promise((resolve) => setTimeout(resolve, 800));
      },
    });
    const started = Date.now();
    const outcome = await genericProvider(bin).run(request);

    expect(outcome.status).toBe('succeeded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(790);
    expect(calls).toBeGreaterThan(100);
    const numbers = events.map((e) => Number(e.data.text));
    expect(numbers).toEqual(Array.from({ length: 300000 }, (_, i) => i + 1));
  });
});

describe('generic provider: how the process is started', () => {
  it('passes the prompt as the last argument after the provider args, in the workdir', async () => {
    const bin = script('args.sh', ['echo "$PWD"', 'for a in "$@"; do echo "[$a]"; done'].join('\n'));
    const { request } = makeRequest({ args: ['--flag', 'two words'], prompt: 'fix the bug, please' });

    const outcome = await genericProvider(bin).run(request);

    expect(outcome.status).toBe('succeeded');
    expect(outcome.output.split('\n')).toEqual([workdir, '[--flag]', '[two words]', '[fix the bug, please]']);
  });

  it('closes stdin, so a script reading it ends at once with empty output', async () => {
    const bin = script('cat.sh', 'cat');
    const { request } = makeRequest();

    const started = Date.now();
    const outcome = await genericProvider(bin).run(request);

    expect(outcome).toMatchObject({ status: 'succeeded', output: '', exitCode: 0 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives the script only the allowlisted environment plus what the request adds', async () => {
    const bin = script(
      'env.sh',
      [
        'echo "secret=${SECRET_TOKEN-unset}"',
        'echo "x=${GANTRY_X-unset}"',
        'echo "path=${PATH-unset}"',
        'echo "home=${HOME-unset}"',
      ].join('\n'),
    );
    const previous = process.env.SECRET_TOKEN;
    process.env.SECRET_TOKEN = 'hunter2';
    try {
      const { request } = makeRequest();
      expect(request.env.SECRET_TOKEN).toBeUndefined();

      const outcome = await genericProvider(bin).run(request);

      expect(outcome.output.split('\n')).toEqual([
        'secret=unset',
        'x=1',
        `path=${process.env.PATH}`,
        `home=${process.env.HOME}`,
      ]);
    } finally {
      if (previous === undefined) delete process.env.SECRET_TOKEN;
      else process.env.SECRET_TOKEN = previous;
    }
  });
});

describe('generic provider: failures', () => {
  it('fails a non-zero exit with provider_failed and the stderr tail', async () => {
    const bin = script(
      'fail.sh',
      ['echo partial', 'echo "first problem" >&2', 'echo "disk is full" >&2', 'exit 3'].join('\n'),
    );
    const { request, events } = makeRequest();

    const outcome = await genericProvider(bin).run(request);

    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(3);
    expect(outcome.output).toBe('partial');
    expect(outcome.error?.code).toBe('provider_failed');
    expect(outcome.error?.message).toContain('exited with code 3');
    expect(outcome.error?.message).toContain('first problem\ndisk is full');
    expect(events.filter((e) => e.type === 'log')).toEqual([
      { type: 'log', data: { stream: 'stderr', text: 'first problem' } },
      { type: 'log', data: { stream: 'stderr', text: 'disk is full' } },
    ]);
  });

  it('reports a missing binary in check() and fails the run with provider_unavailable', async () => {
    const missing = join(dir, 'no-such-agent');
    const provider = genericProvider(missing);

    const check = await provider.check();
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(missing);

    const { request, events } = makeRequest();
    const outcome = await provider.run(request);
    expect(outcome).toMatchObject({ status: 'failed', output: '', exitCode: null });
    expect(outcome.error?.code).toBe('provider_unavailable');
    expect(outcome.error?.message).toContain(missing);
    expect(events).toEqual([]);
  });

  it('names a bare command that is not on PATH', async () => {
    const check = await genericProvider('gantry-no-such-command-xyz').check();
    expect(check.ok).toBe(false);
    expect(check.detail).toContain('gantry-no-such-command-xyz');
    expect(check.detail).toContain('on PATH');
  });

  it('without any bin, check() says to pass --provider-bin', async () => {
    const check = await genericProvider(undefined).check();
    expect(check.ok).toBe(false);
    expect(check.detail).toContain('--provider-bin');
  });
});

describe('generic provider: stopping', () => {
  it('abort kills the whole process group, including a background job that ignores SIGINT', async () => {
    // A non-interactive sh starts background jobs with SIGINT ignored, so SIGINT alone leaves one behind.
    const bin = script('abort.sh', ['sleep 60 &', 'echo "$$ $!"', 'sleep 60'].join('\n'));
    const { request, controller, pids } = requestWithPids();

    const running = genericProvider(bin, fastGraces).run(request);
    const [pgid, background] = await pids;
    await waitFor(() => ignoresSigint(background!));
    const aborted = Date.now();
    controller.abort();
    await sleep(50);
    // SIGINT alone did not end the background job (checked only while SIGTERM cannot have come yet)
    const stillAlive = ignoresSigint(background!);
    if (Date.now() - aborted < fastGraces.interruptMs) expect(stillAlive).toBe(true);
    const outcome = await running;

    expect(outcome.pid).toBe(pgid);
    expect(outcome.status).toBe('failed');
    expect(!groupRunning(pgid!)).toBe(true);
    expect(!processRunning(background!)).toBe(true);
  });

  it('a script that ignores SIGINT and SIGTERM is still stopped by SIGKILL after the graces', async () => {
    const bin = script(
      'stubborn.sh',
      ["trap '' INT TERM", 'echo "$$"', 'sleep 60', 'echo "survived"'].join('\n'),
    );
    const { request, controller, pids, events } = requestWithPids();

    const running = genericProvider(bin, fastGraces).run(request);
    const [pgid] = await pids;
    const aborted = Date.now();
    controller.abort();
    const outcome = await running;

    expect(Date.now() - aborted).toBeGreaterThanOrEqual(fastGraces.interruptMs + fastGraces.terminateMs);
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBeNull();
    expect(outcome.error?.code).toBe('provider_failed');
    expect(outcome.error?.message).toContain('SIGKILL');
    expect(events.some((e) => e.data.text === 'survived')).toBe(false);
    expect(!groupRunning(pgid!)).toBe(true);
  });
});
