// Several hubs, one system: what the cluster tests share. Real hubs (startHub, real sockets) on one
// fresh PostgreSQL database; heartbeats 20 s apart, so what a test sees "at once" (well under a
// second) was carried by the bus or the store, not by a periodic read.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createdAgentSchema, gatewayConnectResultSchema } from '../../protocol/src/index.ts';
import { startHub, type RunningHub } from '../src/server.ts';
import { postgresAdmin, postgresServer } from '../../../test/postgres-admin.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';

/** "At once": far below the 20 s a periodic read would take. */
export const atOnceMs = 1_500;

type Reachable = { url: string };

/** One fresh database (`gantry_<label>_<random>`) for hubs started by `hub()`, and calls on them as its owner. */
export function postgresCluster(label: string) {
  const database = `gantry_${label}_${randomBytes(6).toString('hex')}`;
  const url = `${postgresServer}/${database}`;
  const dirs: string[] = [];
  let owner = '';
  let count = 0;

  /** A folder of its own, removed by `drop()`. */
  async function folder(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `gantry-${label}-`));
    dirs.push(dir);
    return dir;
  }

  async function hub(): Promise<RunningHub> {
    const dir = await folder();
    const started = await startHub({
      host: '127.0.0.1',
      port: 0,
      db: url,
      dataDir: dir,
      settings: { heartbeatMs: 20_000, leaseMs: 60_000 },
    });
    owner ||= started.bootstrap.ownerToken ?? '';
    return started;
  }

  async function call(on: Reachable, path: string, json?: unknown, token = owner) {
    const res = await fetch(`${on.url}${path}`, {
      method: json === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  }

  /** A call that must succeed; its body. */
  async function api(on: Reachable, path: string, json?: unknown, token = owner) {
    const { status, body } = await call(on, path, json, token);
    expect(status, `${path}: ${status} ${JSON.stringify(body)}`).toBeLessThan(300);
    return body;
  }

  /** An agent, and a gateway serving it connected to `on` (the test plays the gateway). */
  async function gatewayOn(on: Reachable) {
    count += 1;
    const name = `${label}-gw-${count}`;
    const agent = createdAgentSchema.parse(await api(on, '/v1/agents', { name: `${label}-${count}` }));
    const connect = gatewayConnectResultSchema.parse(
      await api(on, '/v1/gateways/connect', { name, provider: 'echo' }, agent.key),
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
    return { agent, gw, gatewayId: hello.gatewayId, name };
  }

  const create = () => postgresAdmin(`CREATE DATABASE "${database}"`);
  async function drop() {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    await postgresAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  }

  /**
   * Hubs A and B, started before the file's tests and closed after them (a test may replace one);
   * the test's gateways are closed after each test.
   */
  function twoHubs(): { a: RunningHub; b: RunningHub } {
    const hubs = {} as { a: RunningHub; b: RunningHub };
    beforeAll(async () => {
      await create();
      hubs.a = await hub();
      hubs.b = await hub();
    });
    afterAll(async () => {
      await hubs.a?.close();
      await hubs.b?.close();
      await drop();
    });
    afterEach(() => closeGateways());
    return hubs;
  }

  return {
    database,
    url,
    folder,
    hub,
    twoHubs,
    /** The owner token of the first hub started (the store's owner). */
    owner: () => owner,
    call,
    api,
    gatewayOn,
    create,
    /** Removes the hubs' folders and the database (close the hubs first). */
    drop,
  };
}
