// Issue 10, item 7: the agent key never stays in the process list. `--api-key KEY` still works
// with a warning, but the gateway daemon's /proc/<pid>/cmdline does not hold it; the safer forms
// (`--api-key -` on standard input, `--api-key-file`, GANTRY_API_KEY) never put it there at all.
// The same holds for a user's `--token` on a long-running command.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { createAgent, startHub, type HubReady } from './fixtures.ts';
import { cliPath, eventually, Sandbox, Service } from './harness.ts';

const cmdline = (pid: number | undefined) => readFileSync(`/proc/${pid}/cmdline`, 'utf8');
const warning =
  /warning: --api-key KEY shows the key to every user of this machine in the process list; pass it as GANTRY_API_KEY, --api-key-file PATH or --api-key - \(standard input\)/;

describe('the agent key and the process list', () => {
  const hubBox = new Sandbox();
  const machines: Sandbox[] = [];
  let hub: HubReady;

  beforeAll(async () => {
    hub = (await startHub(hubBox)).ready;
  });
  afterAll(async () => {
    await Promise.all(machines.map((m) => m.cleanup()));
    await hubBox.cleanup();
  });

  /** A machine of its own, logged in to the hub, and a fresh agent (its first device is trusted). */
  async function machine(agentName: string): Promise<{ box: Sandbox; key: string }> {
    const box = new Sandbox();
    machines.push(box);
    await box.run(['login', '--url', hub.url, '--token', hub.ownerToken]);
    return { box, key: (await createAgent(hubBox, agentName)).key };
  }

  const runArgs = (name: string) => [
    'gateway',
    'run',
    '--server-url',
    hub.url,
    '--provider',
    'echo',
    '--port',
    '0',
    '--json',
    '--gateway-name',
    name,
  ];

  async function served(box: Sandbox, agent: string): Promise<void> {
    const done = await box.json<Assignment>(['assign', agent, 'ping', '--wait', '30s']);
    expect(done.result?.output).toBe('echo: ping');
  }

  it('`gateway run --api-key KEY` works, warns, and the daemon does not hold the key in its arguments', async () => {
    const { box, key } = await machine('plain');
    const daemon = box.start([...runArgs('plain'), '--api-key', key]);
    await daemon.ready();
    const args = cmdline(daemon.proc.pid);
    expect(args).toContain('gateway');
    expect(args).toContain('--server-url');
    expect(args).not.toContain(key);
    expect(args).not.toContain(key.split('.')[1]);
    expect(daemon.stderr).toMatch(warning);
    await served(box, 'plain');
    expect(cmdline(daemon.proc.pid)).not.toContain(key.split('.')[1]);
  });

  it('`gateway run --api-key -` reads the key from standard input, without a warning', async () => {
    const { box, key } = await machine('piped');
    const proc = spawn(process.execPath, [cliPath, ...runArgs('piped'), '--api-key', '-'], {
      env: box.env(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const daemon = new Service(proc);
    proc.stdin.end(`${key}\n`);
    try {
      await daemon.ready();
      expect(daemon.stderr).not.toMatch(warning);
      expect(cmdline(proc.pid)).not.toContain(key.split('.')[1]);
      await served(box, 'piped');
    } finally {
      await daemon.stop();
    }
  });

  it('`--api-key-file` and GANTRY_API_KEY give the key without a warning; mistakes are named', async () => {
    const { box, key } = await machine('filed');
    const file = join(box.home, 'agent.key');
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    const daemon = box.start([...runArgs('filed'), '--api-key-file', file]);
    await daemon.ready();
    expect(daemon.stderr).not.toMatch(/warning/);
    await served(box, 'filed');
    await daemon.stop();

    const env = await machine('from-env');
    const connected = await env.box.run(
      ['gateway', 'connect', '--server-url', hub.url, '--provider', 'echo', '--json'],
      { GANTRY_API_KEY: env.key },
    );
    expect(connected.code).toBe(0);
    expect(connected.stderr).not.toMatch(/warning/);
    expect(JSON.parse(connected.stdout)).toMatchObject({ agents: [{ name: 'from-env' }] });

    const connect = ['gateway', 'connect', '--server-url', hub.url, '--provider', 'echo'];
    const missing = await box.run([...connect, '--api-key-file', join(box.home, 'nope')]);
    expect([missing.code, missing.stderr]).toEqual([
      3,
      expect.stringContaining(`--api-key-file ${join(box.home, 'nope')} does not exist`),
    ]);
    const empty = await box.run([...connect, '--api-key', '-'], {}, { input: '' });
    expect([empty.code, empty.stderr]).toEqual([
      2,
      expect.stringContaining('no agent key on standard input'),
    ]);
    const both = await box.run([...connect, '--api-key', key, '--api-key-file', file]);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('pass one')]);
    for (const result of [missing, empty, both]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a long-running command given `--token T` does not keep the token in its arguments', async () => {
    const box = new Sandbox();
    machines.push(box);
    const secret = hub.ownerToken.split('.')[1] ?? '';
    const stream = box.start(['events', 'stream', '--hub', hub.url, '--token', hub.ownerToken]);
    await eventually(
      async () =>
        cmdline(stream.proc.pid).includes('events') && !cmdline(stream.proc.pid).includes(secret)
          ? true
          : undefined,
      10_000,
    );
    expect(cmdline(stream.proc.pid)).toContain(`--hub ${hub.url}`);
    // Still working: it follows the hub's events with that token.
    expect((await hubBox.run(['send', 'seen by the stream'])).code).toBe(0);
    await eventually(async () => (stream.stdout.includes('seen by the stream') ? true : undefined));
    expect(stream.stderr).toBe('');
  });
});
