// `gantry gateway run`'s decision table, case by case, and `gateway bind`, against a real hub.
import { readFileSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { Sandbox, savedSession } from './harness.ts';
import { connectArgs, createAgent, startHub, type HubReady } from './fixtures.ts';

interface Session {
  serverUrl: string;
  gatewayId: string;
  gatewayName: string;
  agents: { id: string; name: string }[];
}

describe('gantry gateway run', () => {
  const hubBox = new Sandbox();
  let hub: HubReady;
  let key: string;

  beforeAll(async () => {
    hub = (await startHub(hubBox)).ready;
    key = (await createAgent(hubBox, 'runner')).key;
  });
  afterAll(() => hubBox.cleanup());

  /** A machine with its own GANTRY_HOME, logged in to the shared hub for hub-side commands. */
  async function machine(): Promise<Sandbox> {
    const box = new Sandbox();
    await box.run(['login', '--url', hub.url, '--token', hub.ownerToken]);
    return box;
  }
  /** Another machine for the same agent waits for a person (DESIGN §5): the owner approves it. */
  async function approveNewDevices(): Promise<void> {
    const pending = await hubBox.json<{ id: string; kind: string }[]>([
      'approvals',
      'list',
      '--status',
      'pending',
    ]);
    for (const approval of pending.filter((a) => a.kind === 'device'))
      await hubBox.json(['approvals', 'approve', approval.id]);
  }
  const session = (box: Sandbox) => savedSession(box.home) as Session;

  async function runAndStop(box: Sandbox, args: string[], env: Record<string, string> = {}) {
    const service = box.start(['gateway', 'run', '--port', '0', '--json', ...args], env);
    const ready = await service.ready<{ gateway: { id: string; name: string } }>();
    const done = await box.json<Assignment>(['assign', 'runner', 'ping', '--wait']);
    expect(done.result?.output).toBe('echo: ping');
    expect(await service.stop('SIGINT')).toBe(0);
    return ready;
  }

  it('with no saved session and a flag missing, names every missing flag', async () => {
    const box = await machine();
    const result = await box.run(['gateway', 'run', '--provider', 'echo']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--hub');
    expect(result.stderr).toContain('--api-key');
    expect(result.stderr).not.toContain('--provider,');
    const none = await box.run(['gateway', 'run']);
    expect(none.stderr).toMatch(/missing --hub, --provider, --api-key/);
    await box.cleanup();
  });

  describe('on one machine, in order', () => {
    let box: Sandbox;
    let first: { gateway: { id: string } };
    beforeAll(async () => {
      box = await machine();
    });
    afterAll(() => box.cleanup());

    it('with no saved session and every flag: connects, saves the session (0600) and starts', async () => {
      first = await runAndStop(box, ['--server-url', hub.url, '--provider', 'echo'], { GANTRY_API_KEY: key });
      const saved = session(box);
      expect(saved).toMatchObject({
        serverUrl: hub.url,
        gatewayId: first.gateway.id,
        agents: [{ name: 'runner' }],
      });
      expect(statSync(join(box.home, 'config', 'gateway-session.json')).mode & 0o777).toBe(0o600);
    });

    it('with a saved session and no flags: starts from it', async () => {
      const again = await runAndStop(box, []);
      expect(again.gateway.id).toBe(first.gateway.id);
    });

    it('with a saved session and some flags: reconnects with them and updates the session', async () => {
      const renamed = await runAndStop(box, ['--gateway-name', 'renamed']);
      expect(renamed.gateway).toEqual({ id: first.gateway.id, name: 'renamed' });
      expect(session(box).gatewayName).toBe('renamed');
      const gateways = await box.json<{ id: string; name: string }[]>(['gateways', 'list']);
      expect(gateways.find((g) => g.id === first.gateway.id)?.name).toBe('renamed');
    });

    it('refuses a bad API key with a clear message', async () => {
      const result = await box.run([
        'gateway',
        'run',
        '--api-key',
        'gnt_a_tok_0000000000.bbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      ]);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain('the hub refused the API key');
    });

    it('binds an agent to a workdir, and runs happen there', async () => {
      const workdir = join(box.home, 'project');
      mkdirSync(workdir);
      const bin = box.script('pwd.sh', 'echo "in $PWD"');
      const bind = await box.run([
        'gateway',
        'bind',
        '--agent',
        'runner',
        '--provider',
        'generic',
        '--provider-bin',
        bin,
        '--workdir',
        workdir,
      ]);
      expect(bind.code).toBe(0);
      const bindings = join(box.home, 'config', 'logical-sessions.json');
      expect(statSync(bindings).mode & 0o777).toBe(0o600);
      const service = box.start(['gateway', 'start', '--port', '0', '--json']);
      await service.ready();
      const done = await box.json<Assignment>(['assign', 'runner', 'where', '--wait']);
      expect(done.result?.output).toBe(`in ${workdir}`);
      const events = await box.json<AssignmentEvent[]>(['assignments', 'events', done.id]);
      expect(events[0]?.data).toEqual({ text: `in ${workdir}` });
      await service.stop();
    });

    it('bind names the agents it serves when the agent is unknown', async () => {
      const result = await box.run(['gateway', 'bind', '--agent', 'ghost']);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('it serves: runner');
    });
  });

  it('passes provider args once: saved by run, added for one start only by start', async () => {
    const box = await machine();
    const bin = box.script('args.sh', 'echo "args: $*"');
    const run = box.start(
      [
        'gateway',
        'run',
        '--server-url',
        hub.url,
        '--provider',
        'generic',
        '--provider-bin',
        bin,
        '--provider-arg',
        '--saved',
        '--port',
        '0',
        '--json',
      ],
      { GANTRY_API_KEY: key },
    );
    await run.ready();
    await approveNewDevices();
    expect((await box.json<Assignment>(['assign', 'runner', 'p1', '--wait'])).result?.output).toBe(
      'args: --saved p1',
    );
    await run.stop();
    const start = box.start(['gateway', 'start', '--provider-option', '--once', '--port', '0', '--json']);
    await start.ready();
    expect((await box.json<Assignment>(['assign', 'runner', 'p2', '--wait'])).result?.output).toBe(
      'args: --saved --once p2',
    );
    await start.stop();
    await box.cleanup();
  });

  it('gateway start with no saved session says what to do', async () => {
    const box = await machine();
    const result = await box.run(['gateway', 'start']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('gantry gateway connect');
    await box.cleanup();
  });

  it('a provider that cannot run is reported, not fatal: status shows it and its runs fail clearly', async () => {
    const box = await machine();
    const missing = ['--provider', 'codex', '--codex-bin', '/nonexistent/codex'];
    const result = await box.run([
      'gateway',
      'connect',
      '--server-url',
      hub.url,
      ...missing,
      '--api-key',
      key,
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("'/nonexistent/codex' is not an executable file");
    await approveNewDevices();
    expect(result.stderr).toContain('npm install -g @openai/codex');

    const stopped = await box.run(['gateway', 'status', '--json']);
    expect(stopped.code).toBe(3); // not running yet
    const status = JSON.parse(stopped.stdout) as {
      providers: { agent: string; provider: string; ok: boolean; detail: string }[];
    };
    expect(status.providers).toEqual([
      expect.objectContaining({
        agent: 'runner',
        provider: 'codex',
        ok: false,
        detail: expect.stringContaining('/nonexistent/codex'),
      }),
    ]);
    // The gateway still starts, says so in its health, and fails the agent's runs with the reason.
    const gateway = box.start(['gateway', 'start', '--port', '0', '--json']);
    const ready = await gateway.ready<{ localApiUrl: string }>();
    const token = readFileSync(join(box.home, 'config', 'local-api.token'), 'utf8').trim();
    const health = (await (
      await fetch(`${ready.localApiUrl}/api/health`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      providers: { ok: boolean }[];
    };
    expect(health.providers).toEqual([expect.objectContaining({ ok: false })]);
    const run = await box.run(['assign', 'runner', 'ping', '--wait', '30s', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      state: 'failed',
      error: { code: 'provider_unavailable', message: expect.stringContaining('/nonexistent/codex') },
    });
    await gateway.stop();

    const unknown = await box.run(connectArgs(hub.url, key, 'gpt'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown provider 'gpt'");
    await box.cleanup();
  });
});
