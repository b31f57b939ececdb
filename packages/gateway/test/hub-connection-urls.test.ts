// The connection to a hub system with several URLs, against hubs played by the test over real
// WebSockets: a URL that refuses is passed over for the next; when the hub it is connected to dies,
// the connection moves to another URL, says hello there, and replays the outbox (a result written
// while it was away reaches the new hub); output that outruns a hub arrives once and in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { gatewayFrameSchema, silentLogger, type GatewayFrame } from '@gantry/protocol';
import { HubConnection } from '../src/hub-connection.ts';
import { GatewayDb } from '../src/state/gateway-db.ts';

/** A hub that answers a hello with `hello_ok` and records what it receives. */
class TinyHub {
  readonly frames: GatewayFrame[] = [];
  private readonly server: Server = createServer((_req, res) => res.writeHead(404).end());
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets: Duplex[] = [];
  url = '';

  async listen(): Promise<string> {
    this.server.on('upgrade', (req, socket, head) =>
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.push(socket);
        ws.on('message', (data) => {
          const frame = gatewayFrameSchema.parse(JSON.parse(String(data)));
          this.frames.push(frame);
          if (frame.t === 'hello')
            ws.send(
              JSON.stringify({
                t: 'hello_ok',
                gatewayId: 'gw_1',
                workspaceId: 'ws_1',
                agents: [],
                heartbeatMs: 60_000,
                leaseMs: 30_000,
                graceMs: 120_000,
              }),
            );
        });
        ws.send(JSON.stringify({ t: 'welcome', nonce: 'n', version: 'test' }));
      }),
    );
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Hangs (as a stopped process): its sockets stay open but nothing is read or answered. */
  hang(): void {
    for (const socket of this.sockets) socket.pause();
  }

  /** Reads again after `hang`. */
  resume(): void {
    for (const socket of this.sockets) socket.resume();
  }

  /** Dies: every socket cut, the port closed. */
  async kill(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function until<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let home: string;
let db: GatewayDb;
let hubs: TinyHub[];
let connection: HubConnection | undefined;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'gantry-urls-'));
  db = new GatewayDb(join(home, 'gateway.db'));
  hubs = [];
});

afterEach(async () => {
  await connection?.stop();
  await Promise.all(hubs.map((h) => h.kill().catch(() => undefined)));
  db.close();
  rmSync(home, { recursive: true, force: true });
});

function connect(urls: string[]): HubConnection {
  const c = new HubConnection({
    urls: () => urls,
    pingGapMs: 50,
    db,
    log: silentLogger,
    hello: () => ({
      t: 'hello',
      token: 'gnt_g_test.secret',
      version: 'test',
      slots: 1,
      agents: [],
      held: [],
    }),
    onPending: () => undefined,
    onFrame: () => undefined,
    onReady: () => undefined,
    onDown: () => undefined,
    onRefused: () => undefined,
  });
  c.start();
  return c;
}

it('passes over a URL that refuses, and moves to the next when its hub dies, replaying the outbox', async () => {
  const gone = new TinyHub();
  const refusing = await gone.listen();
  await gone.kill();
  const a = new TinyHub();
  const b = new TinyHub();
  hubs.push(a, b);
  await Promise.all([a.listen(), b.listen()]);

  connection = connect([refusing, a.url, b.url]);
  expect(await until(() => connection?.connectedUrl)).toBe(a.url);
  expect(a.frames.map((f) => f.t)).toEqual(['hello']);

  await a.kill();
  // Written while no hub is connected: it waits in the outbox for the next one.
  const frame = JSON.stringify({
    t: 'result',
    assignmentId: 'asg_1',
    attempt: 1,
    status: 'succeeded',
    output: 'done',
    exitCode: 0,
    lastSeq: 0,
  });
  db.enqueue({ assignmentId: 'asg_1', attempt: 1, kind: 'result', lastSeq: 0, frame });
  const started = Date.now();
  expect(await until(() => (connection?.connectedUrl === b.url ? b.url : undefined))).toBe(b.url);
  expect(Date.now() - started).toBeLessThan(3000);
  await until(() => (b.frames.some((f) => f.t === 'result') ? true : undefined));
  expect(b.frames.map((f) => f.t)).toEqual(['hello', 'result']);
});

it('leaves a hub that answers no ping for another URL of the system', async () => {
  const a = new TinyHub();
  const b = new TinyHub();
  hubs.push(a, b);
  await Promise.all([a.listen(), b.listen()]);
  connection = connect([a.url, b.url]);
  expect(await until(() => connection?.connectedUrl)).toBe(a.url);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // Answered pings (and bursts of them) keep the connection.
  for (let i = 0; i < 4; i++) {
    connection.ping();
    connection.ping();
    await sleep(150);
  }
  expect(connection.connectedUrl).toBe(a.url);
  a.hang();
  for (let i = 0; i < 3; i++) {
    connection.ping();
    await sleep(150);
  }
  expect(await until(() => (connection?.connectedUrl === b.url ? b.url : undefined))).toBe(b.url);
});

it('sends every event once and in order when output outruns a hub that stopped reading', async () => {
  const a = new TinyHub();
  hubs.push(a);
  await a.listen();
  connection = connect([a.url]);
  expect(await until(() => connection?.connectedUrl)).toBe(a.url);
  a.hang();
  // 40 MB of frames while the hub reads nothing: past what the socket may buffer, past what is held
  // in memory, into the outbox alone; then more while it catches up.
  const text = 'x'.repeat(2000);
  let seq = 0;
  const write = async (frames: number) => {
    for (let frame = 0; frame < frames; frame++) {
      const events = Array.from({ length: 50 }, () => ({
        seq: ++seq,
        type: 'output',
        ts: 't',
        data: { text },
      }));
      const json = JSON.stringify({ t: 'events', assignmentId: 'asg_1', attempt: 1, events });
      connection?.deliver(
        db.enqueueEvents({ assignmentId: 'asg_1', attempt: 1, lastSeq: seq, frame: json }),
        json,
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await write(400);
  a.resume();
  await write(240);
  const seqs = () => a.frames.flatMap((f) => (f.t === 'events' ? f.events.map((e) => e.seq) : []));
  await until(() => (seqs().length >= seq ? true : undefined), 30_000);
  expect(seqs()).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
}, 40_000);

it('keeps one URL (a load balancer) as before', async () => {
  const a = new TinyHub();
  hubs.push(a);
  await a.listen();
  connection = connect([a.url]);
  expect(await until(() => connection?.connectedUrl)).toBe(a.url);
});
