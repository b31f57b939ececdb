// Several hubs, one system (issue 15): which gateways are connected is one answer through every hub.
// Two real hubs (startHub, real sockets) on one fresh PostgreSQL database, and a third as a real
// child process (`gantry hub start`) to be killed with SIGKILL: its gateways read not connected
// within its instance's life (three renewals of half its 1 s heartbeat), and `agents add
// --gateway` to one of them is refused at once, not after the relay's 3 s wait.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createdAgentSchema, gatewayConnectResultSchema, gatewaySchema } from '../../protocol/src/index.ts';
import { startHub, type RunningHub } from '../src/server.ts';
import { relayTimeoutMs } from '../src/domain/gateway-relay.ts';
import { postgresAdmin, postgresServer } from '../../../test/postgres-admin.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';

const database = `gantry_presence_${randomBytes(6).toString('hex')}`;
const url = `${postgresServer}/${database}`;
const cli = fileURLToPath(new URL('../../cli/bin/gantry.js', import.meta.url));

let a: RunningHub;
let b: RunningHub;
let owner = '';
const dirs: string[] = [];

async function hub(): Promise<RunningHub> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-presence-'));
  dirs.push(dir);
  return startHub({
    host: '127.0.0.1',
    port: 0,
    db: url,
    dataDir: dir,
    settings: { heartbeatMs: 20_000, leaseMs: 60_000 },
  });
}

beforeAll(async () => {
  await postgresAdmin(`CREATE DATABASE "${database}"`);
  a = await hub();
  b = await hub();
  owner = a.bootstrap.ownerToken ?? '';
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await postgresAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
});
afterEach(() => closeGateways());

async function call(on: { url: string }, path: string, json?: unknown, token = owner) {
  const res = await fetch(`${on.url}${path}`, {
    method: json === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function api(on: { url: string }, path: string, json?: unknown, token = owner) {
  const { status, body } = await call(on, path, json, token);
  expect(status, `${path}: ${status} ${JSON.stringify(body)}`).toBeLessThan(300);
  return body;
}

let count = 0;

/** An agent, and a gateway serving it connected to `on` (the test plays the gateway). */
async function gatewayOn(on: { url: string }) {
  count += 1;
  const agent = createdAgentSchema.parse(await api(a, '/v1/agents', { name: `pr-${count}` }));
  const connect = gatewayConnectResultSchema.parse(
    await api(on, '/v1/gateways/connect', { name: `pr-gw-${count}`, provider: 'echo' }, agent.key),
  );
  const gw = await FakeGateway.open(on.url);
  await gw.next('welcome');
  const hello = await gw.ask(
    {
      t: 'hello',
      token: connect.gatewayToken ?? '',
      version: 'test',
      slots: 2,
      agents: [{ agentId: agent.id, provider: 'echo', slots: 2 }],
      held: [],
    },
    'hello_ok',
  );
  return { agent, gw, gatewayId: hello.gatewayId };
}

/** `gateways list` through `on`: connected, by gateway id. */
async function listed(on: { url: string }): Promise<Map<string, boolean>> {
  const rows = gatewaySchema.array().parse(await api(on, '/v1/gateways'));
  return new Map(rows.map((g) => [g.id, g.connected]));
}

/** The agent's gateways as `agents show` (the agent view) reports them through `on`. */
async function agentView(on: { url: string }, agent: string) {
  return ((await api(on, `/v1/agents/${agent}`)) as { gateways: { id: string; connected: boolean }[] })
    .gateways;
}

async function reach(on: { url: string }, agent: string) {
  const all = (await api(on, '/v1/agents/reachability')) as {
    agent: { name: string };
    reachability: string;
    via: string[];
  }[];
  return all.find((r) => r.agent.name === agent);
}

describe('two hubs on one PostgreSQL: who is connected', () => {
  it("shows B's gateway connected through A: gateways list, the agent view and reachability", async () => {
    const { agent, gatewayId } = await gatewayOn(b);
    expect((await listed(a)).get(gatewayId)).toBe(true);
    expect((await listed(b)).get(gatewayId)).toBe(true);
    expect(await agentView(a, agent.name)).toEqual([
      expect.objectContaining({ id: gatewayId, connected: true }),
    ]);
    expect(await reach(a, agent.name)).toMatchObject({
      reachability: 'live',
      via: [`gateway:pr-gw-${count}`],
    });
  });

  it("restarting hub A leaves B's gateway connected through A and B", async () => {
    const { gatewayId } = await gatewayOn(b);
    await a.close();
    a = await hub();
    expect((await listed(a)).get(gatewayId)).toBe(true);
    expect((await listed(b)).get(gatewayId)).toBe(true);
  });

  it('a gateway closed on B reads not connected through A at once', async () => {
    const { gw, gatewayId } = await gatewayOn(b);
    await gw.close();
    const deadline = Date.now() + 2_000;
    while ((await listed(a)).get(gatewayId)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});

describe('a hub killed with SIGKILL', () => {
  it('its gateways read not connected within its window, and agents add to one is refused at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-presence-'));
    dirs.push(dir);
    const child = spawn(
      process.execPath,
      [
        cli,
        'hub',
        'start',
        '--port',
        '0',
        '--json',
        '--db',
        url,
        '--data-dir',
        dir,
        '--heartbeat-ms',
        '1000',
        '--lease-ms',
        '60000',
      ],
      { env: { ...process.env, GANTRY_HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const deadline = Date.now() + 20_000;
      let line: string | undefined;
      while (!(line = out.split('\n').find((l) => l.startsWith('{')))) {
        expect(Date.now(), 'the child hub did not start').toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const c = { url: (JSON.parse(line) as { url: string }).url };
      const { agent, gatewayId } = await gatewayOn(c);
      // Past the killed hub's instance life (1.5 s): connected until then, through A and B alike.
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      expect((await listed(a)).get(gatewayId)).toBe(true);
      expect((await listed(b)).get(gatewayId)).toBe(true);

      child.kill('SIGKILL');
      await exited;
      const killed = Date.now();
      while ((await listed(a)).get(gatewayId)) {
        expect(Date.now() - killed, 'still connected through A').toBeLessThan(3_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await listed(b)).get(gatewayId)).toBe(false);
      expect(await agentView(a, agent.name)).toEqual([
        expect.objectContaining({ id: gatewayId, connected: false }),
      ]);
      expect(await reach(b, agent.name)).toMatchObject({ reachability: 'queue-only' });

      const started = Date.now();
      const refused = await call(a, '/v1/agents/add', {
        name: 'pr-nowhere',
        template: 'echo',
        gateway: gatewayId,
      });
      expect(Date.now() - started).toBeLessThan(relayTimeoutMs / 3);
      expect(refused.status).toBe(503);
      expect(JSON.stringify(refused.body)).toContain('is not connected');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
