/**
 * Gateways for tests of the hub's frame handling at scale: each an agent of its own, registered
 * with a device key and served over a real `GatewaySession` on a fake socket, on an in-process hub
 * (`createTempHub`, real SQLite). Used by the dispatcher's, the token re-check's and the session's tests.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import {
  createdAgentSchema,
  gatewayConnectResultSchema,
  hubFrameSchema,
  type GatewayFrame,
  type HubFrame,
  type HubFrameOf,
} from '../../protocol/src/index.ts';
import type { FrameSocket } from '../src/ws/framing.ts';
import { GatewaySession } from '../src/ws/gateway-session.ts';
import type { InProcessHub } from './temp-hub.ts';

export async function api(
  temp: InProcessHub,
  path: string,
  json?: unknown,
  token = temp.ownerToken,
): Promise<unknown> {
  const res = await temp.request(path, {
    method: json === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const body: unknown = await res.json();
  expect(res.ok, `${path}: ${res.status} ${JSON.stringify(body)}`).toBe(true);
  return body;
}

/** A socket that keeps what the session sends, and closes as `ws` does: the close event comes after. */
export class FakeSocket implements FrameSocket {
  readonly frames: HubFrame[] = [];
  closedWith: { code: number; reason: string } | undefined;
  session!: GatewaySession;
  send(text: string): void {
    if (!this.closedWith) this.frames.push(hubFrameSchema.parse(JSON.parse(text)));
  }
  close(code: number, reason: string): void {
    if (this.closedWith) return;
    this.closedWith = { code, reason };
    setImmediate(() => this.session.closed());
  }
  ping(): Promise<number | undefined> {
    return Promise.resolve(this.closedWith ? undefined : 1);
  }
  of<T extends HubFrame['t']>(type: T): HubFrameOf<T>[] {
    return this.frames.filter((f): f is HubFrameOf<T> => f.t === type);
  }
  offers(): HubFrameOf<'offer'>[] {
    return this.of('offer');
  }
}

let made = 0;

/** An agent and a connected, served gateway for it with `slots` free. */
export async function servedGateway(temp: InProcessHub, slots = 1) {
  made += 1;
  const agent = createdAgentSchema.parse(await api(temp, '/v1/agents', { name: `wake-agent-${made}` }));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const connect = gatewayConnectResultSchema.parse(
    await api(
      temp,
      '/v1/gateways/connect',
      {
        name: `wake-gw-${made}`,
        provider: 'echo',
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
      },
      agent.key,
    ),
  );
  const socket = new FakeSocket();
  const session = new GatewaySession(socket, temp.hub.ctx);
  socket.session = session;
  const nonce = socket.frames.find((f) => f.t === 'welcome')?.nonce ?? '';
  const capacity = (free: number) => ({
    slots: free,
    agents: [{ agentId: agent.id, provider: 'echo', slots: free }],
  });
  const receive = async (frame: GatewayFrame) => {
    session.receive(JSON.stringify(frame), false);
    await session.settled();
  };
  await receive({
    t: 'hello',
    token: connect.gatewayToken ?? '',
    version: 'test',
    signature: sign(null, Buffer.from(nonce), privateKey).toString('base64url'),
    ...capacity(slots),
    held: [],
  });
  expect(socket.frames.some((f) => f.t === 'hello_ok')).toBe(true);
  const heartbeat = (free: number) =>
    receive({ t: 'heartbeat', ...capacity(free), seenOffers: socket.offers().at(-1)?.n ?? 0 });
  return { agent, gatewayId: connect.gateway.id, socket, receive, heartbeat };
}

export async function until<T>(what: string, read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
