// Several hubs, one system (issue 15): which gateways are connected is one answer through every hub.
// Two real hubs (startHub, real sockets) on one fresh PostgreSQL database, and a third as a real
// child process (`gantry hub start`) to be killed with SIGKILL: its gateways read not connected
// within its instance's life (three renewals of half its 1 s heartbeat), and `agents add
// --gateway` to one of them is refused at once, not after the relay's 3 s wait.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gatewaySchema } from '../../protocol/src/index.ts';
import { relayTimeoutMs } from '../src/domain/gateway-relay.ts';
import { postgresCluster } from './cluster-fixture.ts';

const cluster = postgresCluster('pr');
const { api, call, gatewayOn } = cluster;
const cli = fileURLToPath(new URL('../../cli/bin/gantry.js', import.meta.url));

const hubs = cluster.twoHubs();

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
    const { agent, gatewayId, name } = await gatewayOn(hubs.b);
    expect((await listed(hubs.a)).get(gatewayId)).toBe(true);
    expect((await listed(hubs.b)).get(gatewayId)).toBe(true);
    expect(await agentView(hubs.a, agent.name)).toEqual([
      expect.objectContaining({ id: gatewayId, connected: true }),
    ]);
    expect(await reach(hubs.a, agent.name)).toMatchObject({
      reachability: 'live',
      via: [`gateway:${name}`],
    });
  });

  it("restarting hub A leaves B's gateway connected through A and B", async () => {
    const { gatewayId } = await gatewayOn(hubs.b);
    await hubs.a.close();
    hubs.a = await cluster.hub();
    expect((await listed(hubs.a)).get(gatewayId)).toBe(true);
    expect((await listed(hubs.b)).get(gatewayId)).toBe(true);
  });

  it('a gateway closed on B reads not connected through A at once', async () => {
    const { gw, gatewayId } = await gatewayOn(hubs.b);
    await gw.close();
    const deadline = Date.now() + 2_000;
    while ((await listed(hubs.a)).get(gatewayId)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});

describe('a hub killed with SIGKILL', () => {
  it('its gateways read not connected within its window, and agents add to one is refused at once', async () => {
    const dir = await cluster.folder();
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
        cluster.url,
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
      expect((await listed(hubs.a)).get(gatewayId)).toBe(true);
      expect((await listed(hubs.b)).get(gatewayId)).toBe(true);

      child.kill('SIGKILL');
      await exited;
      const killed = Date.now();
      while ((await listed(hubs.a)).get(gatewayId)) {
        expect(Date.now() - killed, 'still connected through A').toBeLessThan(3_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await listed(hubs.b)).get(gatewayId)).toBe(false);
      expect(await agentView(hubs.a, agent.name)).toEqual([
        expect.objectContaining({ id: gatewayId, connected: false }),
      ]);
      expect(await reach(hubs.b, agent.name)).toMatchObject({ reachability: 'queue-only' });

      const started = Date.now();
      const refused = await call(hubs.a, '/v1/agents/add', {
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
