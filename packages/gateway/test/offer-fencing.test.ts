// Proves the daemon's side of offer fencing against a hub played by the test over a real WebSocket:
// an attempt offered again under a new offer id stays one run (its answers repeated under the new
// id), a revoke naming an earlier offer leaves the run going, and a revoke of the run it holds stops
// the process group and reports the attempt `lost`, never `cancelled`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  gatewayFrameSchema,
  silentLogger,
  type GatewayFrame,
  type HubFrame,
  type OfferedAssignment,
} from '@gantry/protocol';
import { Gateway } from '../src/daemon.ts';
import { gantryPaths } from '@gantry/protocol/node';

/** The hub's side of one gateway connection: frames received, and a way to wait for one. */
class FakeHub {
  readonly frames: GatewayFrame[] = [];
  private socket: WebSocket | undefined;
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor() {
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.server.on('upgrade', (req, socket, head) =>
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws)),
    );
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  send(frame: HubFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  /** The first frame received that `match` accepts, waiting up to 10 s for it. */
  async next<T extends GatewayFrame['t']>(
    t: T,
    match: (f: Extract<GatewayFrame, { t: T }>) => boolean = () => true,
  ): Promise<Extract<GatewayFrame, { t: T }>> {
    const until = Date.now() + 10_000;
    for (;;) {
      const found = this.of(t).find(match);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no '${t}' frame; got ${this.frames.map((f) => f.t)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  of<T extends GatewayFrame['t']>(t: T): Extract<GatewayFrame, { t: T }>[] {
    return this.frames.filter((f): f is Extract<GatewayFrame, { t: T }> => f.t === t);
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connected(ws: WebSocket): void {
    this.socket = ws;
    ws.on('message', (data) => {
      const frame = gatewayFrameSchema.parse(JSON.parse(String(data)));
      this.frames.push(frame);
      if (frame.t === 'events') {
        const seq = Math.max(...frame.events.map((e) => e.seq));
        this.send({ t: 'events_ack', assignmentId: frame.assignmentId, attempt: frame.attempt, seq });
      }
      if (frame.t === 'result')
        this.send({ t: 'result_ack', assignmentId: frame.assignmentId, attempt: frame.attempt });
      if (frame.t === 'hello') {
        this.send({
          t: 'hello_ok',
          gatewayId: 'gw_1',
          workspaceId: 'ws_1',
          agents: [{ id: 'agt_1', name: 'worker' }],
          heartbeatMs: 60_000,
          leaseMs: 30_000,
          graceMs: 120_000,
        });
      }
    });
    this.send({ t: 'welcome', nonce: 'nonce', version: 'test' });
  }
}

let home: string;
let hub: FakeHub;
let gateway: Gateway;

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'gantry-fencing-'));
  hub = new FakeHub();
  const serverUrl = await hub.listen();
  // Each run counts itself in a file, then works for a while.
  const bin = join(home, 'agent.sh');
  writeFileSync(bin, `#!/bin/sh\necho run >> ${join(home, 'runs')}\nsleep 1.5\necho "done: $1"\n`, {
    mode: 0o755,
  });
  const paths = gantryPaths({ GANTRY_HOME: home });
  gateway = new Gateway({
    paths,
    sessions: [
      {
        serverUrl,
        workspaceId: 'ws_1',
        gatewayId: 'gw_1',
        gatewayName: 'test',
        gatewayToken: 'gnt_g_test.secret',
        provider: 'generic',
        providerBin: bin,
        providerArgs: [],
        settings: {},
        workspaceRoot: home,
        agents: [{ id: 'agt_1', name: 'worker', key: 'gnt_a_test.secret' }],
        updatedAt: new Date().toISOString(),
      },
    ],
    graces: { interruptMs: 200, terminateMs: 200 },
    log: silentLogger,
  });
  await gateway.start();
  await hub.next('hello');
});

afterEach(async () => {
  await gateway.stop();
  await hub.close();
  rmSync(home, { recursive: true, force: true });
});

const assignment: OfferedAssignment = {
  id: 'asg_1',
  attempt: 1,
  agentId: 'agt_1',
  agentName: 'worker',
  prompt: 'the task',
  sessionKey: 'default',
  mode: 'new',
  resumeFallback: 'fail',
  timeoutMs: 60_000,
};
const ref = { assignmentId: 'asg_1', attempt: 1 };
const runs = () => readFileSync(join(home, 'runs'), 'utf8').trim().split('\n').length;

/** Offers the attempt twice (the first offer lapsed, its revoke never came) and starts the second. */
async function offeredTwice() {
  hub.send({ t: 'offer', n: 1, offerId: 'off_1', assignment });
  await hub.next('starting', (f) => f.offerId === 'off_1');
  hub.send({ t: 'offer', n: 2, offerId: 'off_2', assignment });
  await hub.next('starting', (f) => f.offerId === 'off_2');
  hub.send({ t: 'start', ...ref, offerId: 'off_2' });
  await hub.next('running');
}

describe('an attempt offered again', () => {
  it('stays one run under the new offer, and a revoke of the earlier offer leaves it going', async () => {
    await offeredTwice();
    expect(hub.of('accept').map((f) => f.offerId)).toEqual(['off_1', 'off_2']);
    expect(hub.of('reject')).toEqual([]);

    hub.send({ t: 'revoke', ...ref, offerId: 'off_1', reason: 'offer lapsed' });
    const result = await hub.next('result');
    expect(result).toMatchObject({ ...ref, status: 'succeeded', output: 'done: the task' });
    expect(runs()).toBe(1);
    expect(hub.of('running')).toHaveLength(1);
  });

  it('a revoke of the run it holds stops it and reports it lost, not cancelled', async () => {
    await offeredTwice();
    hub.send({ t: 'revoke', ...ref, reason: 'lease expired' });
    const result = await hub.next('result');
    expect(result).toMatchObject({
      ...ref,
      status: 'lost',
      error: { code: 'revoked', message: expect.stringContaining('lease expired') },
    });
    expect(runs()).toBe(1);
  });
});
