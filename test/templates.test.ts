// Agent templates against a real hub, gateway and CLI: `templates`, `agents add` handing a managed
// agent's key to a running gateway (served at once, no restart, no key in any output), a service
// account that sends but never runs, `agents show|test|remove`.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { createAgent, startHub, type HubReady } from './fixtures.ts';
import { eventually, Sandbox, type Service, savedSession } from './harness.ts';

interface Session {
  agents: { id: string; name: string; key: string; provider?: string }[];
}

describe('agent templates', () => {
  const box = new Sandbox(); // the hub's machine and the owner's CLI
  const machine = new Sandbox(); // the gateway's machine
  let hub: HubReady;
  let gateway: Service;
  let gatewayId: string;
  /** Everything the CLI printed, to look for keys in at the end. */
  const printed: string[] = [];

  const run = async (args: string[], env: Record<string, string> = {}) => {
    const result = await box.run(args, env);
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const json = async <T>(args: string[], env: Record<string, string> = {}) => {
    const result = await run([...args, '--json'], env);
    if (result.code !== 0)
      throw new Error(`gantry ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  const session = () => savedSession(machine.home) as Session;
  const keyOf = (name: string) => session().agents.find((a) => a.name === name)?.key;

  beforeAll(async () => {
    hub = (await startHub(box)).ready;
    const first = await createAgent(box, 'first');
    gateway = machine.start(
      ['gateway', 'run', '--server-url', hub.url, '--provider', 'echo', '--port', '0', '--json'],
      { GANTRY_API_KEY: first.key },
    );
    gatewayId = (await gateway.ready<{ gateway: { id: string } }>()).gateway.id;
  });
  afterAll(async () => {
    await machine.cleanup();
    await box.cleanup();
  });

  it('templates --json lists the eight, each with its kind, provider and needs', async () => {
    const list = await json<{ name: string; kind: string; provider: string | null; needs: string[] }[]>([
      'templates',
    ]);
    expect(list.map((t) => t.name)).toEqual([
      'echo',
      'generic',
      'codex',
      'claude-code',
      'acp',
      'ollama',
      'pass-through',
      'service-account',
    ]);
    expect(list.find((t) => t.name === 'codex')).toMatchObject({ kind: 'managed', provider: 'codex' });
    expect(list.find((t) => t.name === 'service-account')).toMatchObject({ kind: 'service', provider: null });
    expect(list.every((t) => t.needs.length > 0)).toBe(true);
    const text = await run(['templates']);
    expect(text.stdout).toContain('--ollama-model');
  });

  it('agents add --template echo: the running gateway serves it within seconds, no key printed', async () => {
    const added = await json<Record<string, unknown>>([
      'agents',
      'add',
      'coder',
      '--template',
      'echo',
      '--gateway',
      gatewayId,
    ]);
    expect(added).toMatchObject({
      template: 'echo',
      gateway: { id: gatewayId },
      // Bound to no folder: its own under the gateway's workspace root, and `agents add` says which.
      binding: { provider: 'echo', workdir: join(machine.home, 'workspaces', 'coder') },
    });
    expect(statSync(join(machine.home, 'workspaces', 'coder')).mode & 0o777).toBe(0o700);
    expect(added).not.toHaveProperty('key');
    const started = Date.now();
    const done = await json<Assignment>(['assign', 'coder', 'hi there', '--wait', '20s']);
    expect(done.result?.output).toBe('echo: hi there');
    expect(Date.now() - started).toBeLessThan(10_000);
    // The key and binding live on the gateway's machine only, in 0600 files.
    expect(keyOf('coder')).toMatch(/^gnt_a_/);
    const bindings = join(machine.home, 'config', 'logical-sessions.json');
    expect(readFileSync(bindings, 'utf8')).toContain('"agentName": "coder"');
    expect(statSync(bindings).mode & 0o777).toBe(0o600);
    expect(statSync(join(machine.home, 'config', 'gateway-session.json')).mode & 0o777).toBe(0o600);
  });

  it('agents add --template generic --provider-bin runs that script, likewise', async () => {
    const bin = machine.script('reply.sh', 'echo "generic says: $1 in $(basename "$PWD")"');
    const workdir = join(machine.home, 'workspaces', 'gen');
    mkdirSync(workdir, { recursive: true });
    await json([
      'agents',
      'add',
      'gen',
      '--template',
      'generic',
      '--gateway',
      gatewayId,
      '--provider-bin',
      bin,
      '--workdir',
      workdir,
    ]);
    const done = await json<Assignment>(['assign', 'gen', 'hello', '--wait', '20s']);
    expect(done.state).toBe('succeeded');
    expect(done.result?.output).toContain('generic says: hello in gen');
  });

  it('refuses what a template cannot take, with a clear message', async () => {
    const noGateway = await run(['agents', 'add', 'x1', '--template', 'echo']);
    expect(noGateway.code).toBe(2);
    expect(noGateway.stderr).toContain('--gateway');
    const unknown = await run(['agents', 'add', 'x2', '--template', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no template');
    const noModel = await run(['agents', 'add', 'x3', '--template', 'ollama', '--gateway', gatewayId]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('--ollama-model');
    const badDir = await run([
      'agents',
      'add',
      'x4',
      '--template',
      'echo',
      '--gateway',
      gatewayId,
      '--workdir',
      '/no/such/dir',
    ]);
    expect(badDir.code).toBe(5);
    expect(badDir.stderr).toContain('not a folder');
    // A refused add leaves nothing behind.
    const agents = await json<{ name: string }[]>(['agents', 'list']);
    expect(agents.map((a) => a.name)).not.toContain('x4');
  });

  it('a service account sends with its key (printed once) and is never given work', async () => {
    const added = await json<{ key: string; agent: { kind: string } }>([
      'agents',
      'add',
      'svc',
      '--template',
      'service-account',
    ]);
    expect(added.agent.kind).toBe('service');
    expect(added.key).toMatch(/^gnt_a_/);
    const sent = await run(['send', 'deploy finished', '--json'], { GANTRY_TOKEN: added.key });
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ message: { author: { name: 'svc' } } });
    const assigned = await run(['assign', 'svc', 'do something']);
    expect(assigned.code).toBe(2);
    expect(assigned.stderr).toContain('service account');
    const task = await run(['tasks', 'create', 'a job', '--assign', 'svc']);
    expect(task.code).toBe(2);
    expect(task.stderr).toContain('service account');
  });

  it('agents test: ok with the round trip for a managed agent; a message for the others', async () => {
    const result = await json<{ ok: boolean; outcome: string; roundTripMs: number }>([
      'agents',
      'test',
      'coder',
    ]);
    expect(result).toMatchObject({ ok: true, outcome: 'succeeded' });
    expect(result.roundTripMs).toBeGreaterThan(0);
    await json(['agents', 'add', 'terminal', '--template', 'pass-through']);
    const passing = await json<{ test: string; reachable: boolean }>(['agents', 'test', 'terminal']);
    expect(passing).toMatchObject({ test: 'message', reachable: true });
    // A managed agent nothing serves: exit 1 at once, and no assignment is made for it.
    await json(['agents', 'create', 'stranded']);
    const stranded = await run(['agents', 'test', 'stranded']);
    expect(stranded.code).toBe(1);
    expect(stranded.stdout).toMatch(/^stranded: unreachable \(no gateway serves it.*\); nothing was sent$/m);
    expect(await json<unknown[]>(['assignments', 'list', '--agent', 'stranded'])).toEqual([]);
  }, 60_000);

  it('agents show: kind, template, gateways with providers, reachability', async () => {
    const shown = await json<Record<string, unknown>>(['agents', 'show', 'coder']);
    expect(shown).toMatchObject({
      kind: 'managed',
      template: 'echo',
      paused: false,
      gateways: [{ id: gatewayId, provider: 'echo', connected: true }],
      reachability: { state: 'live' },
    });
  });

  it('a restarted gateway serves an added agent from its saved files, asking no one', async () => {
    await gateway.stop();
    gateway = machine.start(['gateway', 'start', '--port', '0', '--json']);
    await gateway.ready();
    const done = await json<Assignment>(['assign', 'gen', 'after restart', '--wait', '20s']);
    expect(done.result?.output).toContain('generic says: after restart');
  });

  it('agents remove: the gateway stops serving it and its key is refused', async () => {
    const key = keyOf('coder') as string;
    const removed = await json<{ outcome: string; revokedKeys: number; detachedFrom: { told: boolean }[] }>([
      'agents',
      'remove',
      'coder',
    ]);
    expect(removed).toMatchObject({ outcome: 'removed', detachedFrom: [{ id: gatewayId, told: true }] });
    expect(removed.revokedKeys).toBeGreaterThan(0);
    await eventually(async () => (keyOf('coder') === undefined ? true : undefined), 5_000);
    expect(readFileSync(join(machine.home, 'config', 'logical-sessions.json'), 'utf8')).not.toContain(
      '"coder"',
    );
    const refused = await run(['whoami'], { GANTRY_TOKEN: key });
    expect(refused.code).toBe(4);
    const gone = await run(['assign', 'coder', 'hi']);
    expect(gone.code).toBe(3);
    // The gateway still serves the others, without a restart.
    const still = await json<Assignment>(['assign', 'gen', 'again', '--wait', '20s']);
    expect(still.state).toBe('succeeded');
    // An agent nothing refers to is deleted outright, its name free again.
    await json(['agents', 'add', 'spare', '--template', 'echo', '--gateway', gatewayId]);
    expect(await json(['agents', 'remove', 'spare'])).toMatchObject({ outcome: 'deleted' });
    await json(['agents', 'add', 'spare', '--template', 'echo', '--gateway', gatewayId]);
    for (const text of [...printed, gateway.stdout, gateway.stderr]) expect(text).not.toContain(key);
  });
});
