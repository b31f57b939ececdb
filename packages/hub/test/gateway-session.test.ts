/**
 * The `GatewaySession` state machine with a fake socket on an in-process hub (`createHub()`, real
 * SQLite, no port): welcome, the one frame a stranger may send, a hello served, refused, held for
 * a device approval and served on the same session once approved, the hello clock, invalid frames
 * after hello, a revoked gateway token, and what closing leaves behind. The real-socket side of the
 * same rules is in gateway-socket.test.ts and handshakes.test.ts.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createdAgentSchema,
  gatewayConnectResultSchema,
  type GatewayFrame,
  type GatewayFrameOf,
} from '../../protocol/src/index.ts';
import { GatewaySession } from '../src/ws/gateway-session.ts';
import { api, FakeSocket, until } from './served-gateways.ts';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

let temp: InProcessHub;

beforeAll(async () => {
  temp = await createTempHub('gantry-session-');
});
afterAll(() => temp?.stop());

/** A session on a fake socket, with what its handshake gate heard. */
function open(helloMs?: number) {
  const socket = new FakeSocket();
  const gate = { served: 0, held: 0 };
  const session = new GatewaySession(
    socket,
    temp.hub.ctx,
    { served: () => (gate.served += 1), held: () => (gate.held += 1) },
    helloMs,
  );
  socket.session = session;
  const welcome = socket.of('welcome')[0];
  if (!welcome) throw new Error('no welcome');
  const receive = async (...frames: (GatewayFrame | string)[]) => {
    for (const f of frames) session.receive(typeof f === 'string' ? f : JSON.stringify(f), false);
    await session.settled();
  };
  return { socket, session, gate, nonce: welcome.nonce, receive };
}

let registered = 0;

/** An agent and a gateway registered for it with a device key, on host `h1` as user `u1`. */
async function registerGateway() {
  registered += 1;
  const agent = createdAgentSchema.parse(
    await api(temp, '/v1/agents', { name: `session-agent-${registered}` }),
  );
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const connect = gatewayConnectResultSchema.parse(
    await api(
      temp,
      '/v1/gateways/connect',
      {
        name: `session-gw-${registered}`,
        provider: 'echo',
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
        hostname: 'h1',
        osUser: 'u1',
      },
      agent.key,
    ),
  );
  const hello = (nonce: string, hostname = 'h1'): GatewayFrameOf<'hello'> => ({
    t: 'hello',
    token: connect.gatewayToken ?? '',
    version: 'test',
    hostname,
    osUser: 'u1',
    signature: sign(null, Buffer.from(nonce), privateKey).toString('base64url'),
    slots: 1,
    agents: [{ agentId: agent.id, provider: 'echo', slots: 1 }],
    held: [],
  });
  return { agent, gatewayId: connect.gateway.id, hello };
}

describe('before hello', () => {
  it('says welcome with a fresh nonce each time', () => {
    const a = open();
    const b = open();
    expect(a.nonce).toMatch(/^[\w-]{22}$/);
    expect(a.nonce).not.toBe(b.nonce);
    a.socket.close(1000, 'done');
    b.socket.close(1000, 'done');
  });

  it('closes with 1008 on an invalid first frame, whatever is wrong with it', async () => {
    for (const first of ['{not json', JSON.stringify({ t: 'nonsense' })]) {
      const { socket, receive } = open();
      await receive(first);
      expect(socket.of('error')[0]).toMatchObject({ code: 'invalid_frame' });
      expect(socket.closedWith).toEqual({ code: 1008, reason: 'invalid frame before hello' });
    }
    const binary = open();
    binary.session.receive(Buffer.from('{}'), true);
    await binary.session.settled();
    expect(binary.socket.of('error')[0]).toMatchObject({
      code: 'invalid_frame',
      message: 'frames are JSON text',
    });
    expect(binary.socket.closedWith?.code).toBe(1008);
    const heartbeat = open();
    await heartbeat.receive({ t: 'heartbeat', slots: 1, agents: [], seenOffers: 0 });
    expect(heartbeat.socket.of('error')[0]).toMatchObject({ code: 'hello_required' });
    expect(heartbeat.socket.closedWith?.code).toBe(1008);
  });

  it('reads one frame before hello_ok: a second is refused on arrival, however good the first', async () => {
    const { hello } = await registerGateway();
    const { socket, session, nonce, gate } = open();
    session.receive(JSON.stringify(hello(nonce)), false);
    session.receive(JSON.stringify({ t: 'heartbeat', slots: 1, agents: [], seenOffers: 0 }), false);
    // Refused before the hello was even read.
    expect(socket.of('error')[0]).toMatchObject({
      code: 'invalid_frame',
      message: 'only one frame, the hello, is read before the hub answers it',
    });
    expect(socket.closedWith?.code).toBe(1008);
    await session.settled();
    expect(gate.served).toBe(1); // the hello itself went through; its answer found the socket closed
    expect(socket.of('hello_ok')).toEqual([]);
  });

  it('closes a socket that sends no hello in time with 4001', async () => {
    const { socket } = open(50);
    const closed = await until('the hello clock', () => socket.closedWith);
    expect(closed).toEqual({ code: 4001, reason: 'no hello in time' });
  });

  it('refuses a hello with a token that is not a gateway token with 4003, and its gate hears nothing', async () => {
    const { hello } = await registerGateway();
    const { socket, nonce, gate, receive } = open();
    await receive({ ...hello(nonce), token: temp.ownerToken });
    expect(socket.of('error')[0]).toMatchObject({ code: 'unauthorized' });
    expect(socket.closedWith?.code).toBe(4003);
    expect(gate).toEqual({ served: 0, held: 0 });
  });

  it('refuses a hello signed with another device key as device_mismatch', async () => {
    const mine = await registerGateway();
    const other = await registerGateway();
    const { socket, nonce, receive } = open();
    await receive({ ...mine.hello(nonce), signature: other.hello(nonce).signature });
    expect(socket.of('error')[0]).toMatchObject({ code: 'device_mismatch' });
    expect(socket.closedWith).toEqual({ code: 4003, reason: 'device key mismatch' });
  });
});

describe('a served hello', () => {
  it('answers hello_ok with its agents, tells the gate once and links the gateway', async () => {
    const { agent, gatewayId, hello } = await registerGateway();
    const { socket, nonce, gate, receive } = open();
    await receive(hello(nonce));
    expect(socket.of('hello_ok')[0]).toMatchObject({
      gatewayId,
      agents: [{ id: agent.id, name: agent.name }],
    });
    expect(gate).toEqual({ served: 1, held: 0 });
    expect(temp.hub.ctx.links.isConnected(gatewayId)).toBe(true);
    expect(socket.closedWith).toBeUndefined();
    // A second hello on a served connection is refused and the connection stays.
    await receive(hello(nonce));
    expect(socket.of('error').at(-1)).toMatchObject({ code: 'already_hello' });
    expect(socket.closedWith).toBeUndefined();
    socket.close(1000, 'done');
    await until('the link to go', () => (temp.hub.ctx.links.isConnected(gatewayId) ? undefined : true));
  });

  it('answers invalid frames after hello and closes on the 21st', async () => {
    const { hello } = await registerGateway();
    const { socket, nonce, receive } = open();
    await receive(hello(nonce));
    for (let i = 0; i < 20; i++) await receive('{broken');
    expect(socket.of('error')).toHaveLength(20);
    expect(socket.closedWith).toBeUndefined();
    await receive('{broken');
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'too many invalid frames' });
  });

  it('ends the connection with 4003 the moment its gateway token is revoked', async () => {
    const { gatewayId, hello } = await registerGateway();
    const { socket, nonce, receive } = open();
    await receive(hello(nonce));
    const tokens = (await api(temp, '/v1/tokens')) as {
      id: string;
      kind: string;
      subject?: { id: string };
    }[];
    const mine = tokens.filter((t) => t.kind === 'gateway');
    for (const t of mine) await api(temp, `/v1/tokens/${t.id}/revoke`, {});
    const closed = await until('the close', () => socket.closedWith);
    expect(closed).toEqual({ code: 4003, reason: 'gateway token revoked' });
    expect(socket.of('error').at(-1)).toMatchObject({
      code: 'unauthorized',
      message: 'gateway token revoked',
    });
    await until('the link to go', () => (temp.hub.ctx.links.isConnected(gatewayId) ? undefined : true));
  });
});

describe('a held hello', () => {
  it('waits for a device approval on the same session, then is served', async () => {
    const { gatewayId, hello } = await registerGateway();
    const { socket, nonce, gate, receive } = open(100);
    // Another host: a fingerprint approval.
    await receive(hello(nonce, 'h2'));
    const pending = socket.of('pending')[0];
    expect(pending?.approvalId).toBeTruthy();
    expect(gate).toEqual({ served: 0, held: 1 });
    // Authenticated: the hello clock no longer runs.
    await sleep(200);
    expect(socket.closedWith).toBeUndefined();
    expect(temp.hub.ctx.links.isConnected(gatewayId)).toBe(false);

    await api(temp, `/v1/approvals/${pending?.approvalId}/approve`, {});
    const ok = await until('hello_ok', () => socket.of('hello_ok')[0]);
    expect(ok.gatewayId).toBe(gatewayId);
    // Held again by each approval notice until the decision (the gate's release is idempotent).
    expect(gate.served).toBe(1);
    expect(gate.held).toBeGreaterThanOrEqual(1);
    expect(temp.hub.ctx.links.isConnected(gatewayId)).toBe(true);
    socket.close(1000, 'done');
  });

  it('closes with 4003 when the approval is denied', async () => {
    const { hello } = await registerGateway();
    const { socket, nonce, receive } = open();
    await receive(hello(nonce, 'h3'));
    const pending = socket.of('pending')[0];
    await api(temp, `/v1/approvals/${pending?.approvalId}/deny`, {});
    const closed = await until('the close', () => socket.closedWith);
    expect(closed).toEqual({ code: 4003, reason: 'device denied' });
    expect(socket.of('error').at(-1)).toMatchObject({ code: 'device_denied' });
  });
});
