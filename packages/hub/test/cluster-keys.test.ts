// Several hubs, one system (issue 15): `agents add --gateway` and `agents rotate-key` hand a gateway
// an agent key. Through hub A they reach a gateway connected to hub B, through the store
// (`gateway_relay`), never in a NOTIFY payload: the test LISTENs on the bus channel and looks at
// every payload. Two real hubs (startHub, real sockets) on one fresh PostgreSQL database.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addedAgentSchema, rotatedKeySchema } from '../../protocol/src/index.ts';
import { busApplication, busChannel } from '../src/pg-bus.ts';
import type { RunningHub } from '../src/server.ts';
import { atOnceMs, postgresCluster } from './cluster-fixture.ts';
import { closeGateways } from './fake-gateway.ts';

const cluster = postgresCluster('kx');
const { api, call, gatewayOn } = cluster;

let a: RunningHub;
let b: RunningHub;
let listener: pg.Client;
let admin: pg.Client;
/** Every NOTIFY payload on the bus channel since the test began. */
const payloads: string[] = [];

beforeAll(async () => {
  await cluster.create();
  a = await cluster.hub();
  b = await cluster.hub();
  listener = new pg.Client({ connectionString: cluster.url });
  await listener.connect();
  listener.on('notification', (m) => payloads.push(m.payload ?? ''));
  await listener.query(`LISTEN ${busChannel}`);
  admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
});
afterAll(async () => {
  await listener?.end();
  await admin?.end();
  await a?.close();
  await b?.close();
  await cluster.drop();
});
afterEach(() => closeGateways());

const relayRows = async () =>
  Number((await admin.query<{ n: string }>('select count(*) as n from gateway_relay')).rows[0]?.n);

/** The key appears in no NOTIFY payload (those of a moment after its use included). */
async function neverOnTheBus(key: string) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(payloads.length).toBeGreaterThan(0);
  expect(payloads.filter((p) => p.includes(key))).toEqual([]);
}

describe('two hubs on one PostgreSQL: agent keys', () => {
  it("agents add through A hands the new agent to B's gateway, its key through the store only", async () => {
    const { gw, gatewayId } = await gatewayOn(b);
    const started = Date.now();
    const adding = api(a, '/v1/agents/add', { name: 'kx-added', template: 'echo', gateway: gatewayId });
    const attach = await gw.next('attach', (f) => f.agent.name === 'kx-added', atOnceMs);
    expect(Date.now() - started).toBeLessThan(atOnceMs);
    expect(attach.key).toMatch(/^gnt_/);
    gw.send({
      t: 'attached',
      requestId: attach.requestId,
      agentId: attach.agent.id,
      ok: true,
      workdir: '/work/kx-added',
    });
    const added = addedAgentSchema.parse(await adding);
    expect(added.gateway?.id).toBe(gatewayId);
    expect(added.binding).toMatchObject({ provider: 'echo', workdir: '/work/kx-added' });
    await neverOnTheBus(attach.key);
    expect(await relayRows()).toBe(0);

    // B serves it: once the gateway reports its slots, work created through A is offered to it.
    gw.send({
      t: 'heartbeat',
      slots: 2,
      agents: [{ agentId: attach.agent.id, provider: 'echo', slots: 2 }],
      seenOffers: 0,
    });
    const created = (await api(a, '/v1/assignments', { agent: 'kx-added', prompt: 'hi' })) as { id: string };
    await gw.next('offer', (f) => f.assignment.id === created.id, atOnceMs);
  });

  it("agents rotate-key through A hands the key to B's gateway and does not print it", async () => {
    const { agent, gw, name } = await gatewayOn(b);
    const rotated = rotatedKeySchema.parse(await api(a, `/v1/agents/${agent.name}/rotate-key`, {}));
    expect(rotated).toMatchObject({ key: null, gateways: [name] });
    const rekey = await gw.next('rekey', (f) => f.agentId === agent.id, atOnceMs);
    // The key the gateway got is the agent's live key: it exchanges for an access token.
    expect((await call(a, '/v1/auth/exchange', {}, rekey.key)).status).toBeLessThan(300);
    await neverOnTheBus(rekey.key);
    expect(await relayRows()).toBe(0);
  });

  it("refuses as before when B's gateway does not take the agent, and B stops serving it", async () => {
    const { gw, gatewayId } = await gatewayOn(b);
    const adding = call(a, '/v1/agents/add', { name: 'kx-refused', template: 'echo', gateway: gatewayId });
    const attach = await gw.next('attach', (f) => f.agent.name === 'kx-refused', atOnceMs);
    gw.send({
      t: 'attached',
      requestId: attach.requestId,
      agentId: attach.agent.id,
      ok: false,
      error: 'no such folder',
    });
    const refused = await adding;
    expect(refused.status).toBe(503);
    expect(JSON.stringify(refused.body)).toContain('did not take agent kx-refused: no such folder');
    // Nothing is left: the agent is gone, and the gateway is told to forget it.
    await gw.next('detach', (f) => f.agentId === attach.agent.id, atOnceMs);
    expect((await call(a, '/v1/agents/kx-refused')).status).toBe(404);
    expect(await relayRows()).toBe(0);
  });

  it('answers as before when the gateway is connected nowhere', async () => {
    const { agent, gw, gatewayId } = await gatewayOn(b);
    await gw.close();
    const deadline = Date.now() + 5_000;
    while (
      (await admin.query('select 1 from gateways where id = $1 and connected = 1', [gatewayId])).rowCount
    ) {
      if (Date.now() > deadline) throw new Error('the gateway is still marked connected');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const refused = await call(a, '/v1/agents/add', {
      name: 'kx-nowhere',
      template: 'echo',
      gateway: gatewayId,
    });
    expect(refused.status).toBe(503);
    expect(JSON.stringify(refused.body)).toContain('is not connected');
    const rotated = rotatedKeySchema.parse(await api(a, `/v1/agents/${agent.name}/rotate-key`, {}));
    expect(rotated.key).toMatch(/^gnt_/);
    expect(rotated.gateways).toEqual([]);
  });

  it("hands on what waited while B's listening connection was cut (catch-up after the gap)", async () => {
    const { agent, gw } = await gatewayOn(b);
    // B started last: its listening connection is the newest.
    const { rows } = await admin.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = $1 and application_name = $2
       order by backend_start desc limit 1`,
      [cluster.database, busApplication],
    );
    await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
    const rotated = rotatedKeySchema.parse(await api(a, `/v1/agents/${agent.name}/rotate-key`, {}));
    expect(rotated.key).toBeNull();
    await gw.next('rekey', (f) => f.agentId === agent.id, 5_000);
    expect(await relayRows()).toBe(0);
  });
});
