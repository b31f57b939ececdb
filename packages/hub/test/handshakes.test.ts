/**
 * What a gateway socket may do before its hello is served (issue 10, item 3), against a real hub:
 * one frame of at most 64 KiB, the first invalid frame closes it, and the sockets still in their
 * handshake are capped in total and per address (a 503 before the WebSocket handshake). A served
 * hello lifts the frame limit to 16 MiB; a hello held for a device approval (here: a changed host
 * or OS user, a `fingerprint` approval) leaves the count and is served on the same socket once
 * approved.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  approvalSchema,
  createdAgentSchema,
  gatewayConnectResultSchema,
  maxFrameBytes,
  maxHelloFrameBytes,
  type GatewayFrameOf,
} from '../../protocol/src/index.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

let temp: TempHub;

beforeAll(async () => {
  temp = await startTempHub('gantry-handshakes-');
});
afterAll(() => temp?.stop());
afterEach(() => closeGateways());

async function api(path: string, init: { token?: string; json?: unknown } = {}): Promise<unknown> {
  const res = await fetch(`${temp.hub.url}${path}`, {
    method: init.json === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${init.token ?? temp.ownerToken}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const body: unknown = await res.json();
  expect(res.ok, `${path}: ${res.status} ${JSON.stringify(body)}`).toBe(true);
  return body;
}

let agents = 0;

/** An agent and a gateway registered for it with a device key, on host `h1` as user `u1`. */
async function registerGateway() {
  agents += 1;
  const agent = createdAgentSchema.parse(await api('/v1/agents', { json: { name: `hs-agent-${agents}` } }));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const connect = gatewayConnectResultSchema.parse(
    await api('/v1/gateways/connect', {
      token: agent.key,
      json: {
        name: `hs-gw-${agents}`,
        provider: 'echo',
        publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
        hostname: 'h1',
        osUser: 'u1',
      },
    }),
  );
  const hello = (nonce: string, where = { hostname: 'h1', osUser: 'u1' }): GatewayFrameOf<'hello'> => ({
    t: 'hello',
    token: connect.gatewayToken ?? '',
    version: 'test',
    ...where,
    signature: sign(null, Buffer.from(nonce), privateKey).toString('base64url'),
    slots: 1,
    agents: [{ agentId: agent.id, provider: 'echo', slots: 1 }],
    held: [],
  });
  return { agent, gatewayId: connect.gateway.id, hello };
}

/** A gateway socket past `welcome`. */
async function stranger(url = temp.hub.url): Promise<{ gw: FakeGateway; nonce: string }> {
  const gw = await FakeGateway.open(url);
  return { gw, nonce: (await gw.next('welcome')).nonce };
}

/** A raw upgrade: the open socket, or the HTTP status and body of a refusal. */
function upgrade(
  url: string,
  localAddress = '127.0.0.1',
): Promise<{ ws: WebSocket } | { status: number; body: string }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/gateway/ws`, { localAddress });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.terminate();
        }),
    ),
  );
}

/** Waits until the hub has seen every earlier socket go (a close reaches it a moment later). */
async function noneWaiting(hub = temp.hub): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (hub.pendingHandshakes > 0) {
    if (Date.now() > deadline) throw new Error(`${hub.pendingHandshakes} handshakes still pending`);
    await sleep(10);
  }
}

function opened(result: Awaited<ReturnType<typeof upgrade>>): WebSocket {
  if (!('ws' in result)) throw new Error(`refused: ${result.status} ${result.body}`);
  return result.ws;
}

describe('frames before hello', () => {
  it('closes a socket whose first frame is over 64 KiB with 1009, reads frames up to 16 MiB after hello', async () => {
    const { gw } = await stranger();
    gw.send('x'.repeat(maxHelloFrameBytes + 1));
    expect((await gw.closed).code).toBe(1009);

    const { hello } = await registerGateway();
    const { gw: served, nonce } = await stranger();
    await served.ask(hello(nonce), 'hello_ok');
    // Far over the hello's limit and within the protocol's: read and answered (not JSON), not closed.
    served.send('x'.repeat(maxFrameBytes - 1024));
    expect(await served.next('error', undefined, 20_000)).toMatchObject({ code: 'invalid_frame' });
    served.send({ t: 'starting', assignmentId: 'asg_probe', attempt: 1 });
    expect(await served.next('revoke')).toMatchObject({ assignmentId: 'asg_probe' });
  });

  it.each([
    ['text that is not JSON', 'not json {', 'invalid_frame'],
    ['a binary frame', Buffer.from('{"t":"heartbeat"}'), 'invalid_frame'],
    ['JSON nested 65 deep', `${'['.repeat(65)}${']'.repeat(65)}`, 'invalid_frame'],
    ['an accept', JSON.stringify({ t: 'accept', assignmentId: 'asg_x', attempt: 1 }), 'hello_required'],
  ])(
    'answers %s before hello with an error frame and closes the socket (1008)',
    async (_what, frame, code) => {
      const { gw } = await stranger();
      gw.send(frame);
      expect(await gw.next('error')).toMatchObject({ code });
      expect((await gw.closed).code).toBe(1008);
    },
  );

  it('reads nothing after the hello until it is answered: a second frame closes the socket', async () => {
    const { hello } = await registerGateway();
    const { gw, nonce } = await stranger();
    gw.send(hello(nonce));
    gw.send({ t: 'heartbeat', slots: 1, agents: [], seenOffers: 0 });
    expect(await gw.next('error')).toMatchObject({
      code: 'invalid_frame',
      message: 'only one frame, the hello, is read before the hub answers it',
    });
    expect((await gw.closed).code).toBe(1008);
  });
});

describe('pending handshakes', () => {
  it('lets 64 sockets from one address wait for their hello and refuses the 65th with a 503', async () => {
    await noneWaiting();
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 64; i += 1) sockets.push(opened(await upgrade(temp.hub.url)));
      const refused = await upgrade(temp.hub.url);
      expect(refused).toMatchObject({ status: 503 });
      expect(JSON.parse((refused as { body: string }).body)).toMatchObject({
        error: { code: 'unavailable', message: expect.stringContaining('127.0.0.1') },
      });
      // Health and REST are not WebSocket handshakes: they still answer.
      expect((await fetch(`${temp.hub.url}/v1/health`)).status).toBe(200);

      // A socket that goes away frees its place.
      await closeAll(sockets.splice(0, 1));
      while (temp.hub.pendingHandshakes > 63) await sleep(10);
      sockets.push(opened(await upgrade(temp.hub.url)));
      expect(await upgrade(temp.hub.url)).toMatchObject({ status: 503 });
    } finally {
      await closeAll(sockets);
    }
  });

  it('frees the place of a served hello, and of one held for a device approval', async () => {
    await noneWaiting();
    const gateway = await registerGateway();
    const served = await stranger();
    const held = await stranger();
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 62; i += 1) sockets.push(opened(await upgrade(temp.hub.url)));
      expect(await upgrade(temp.hub.url)).toMatchObject({ status: 503 });

      // Trusted on first use at h1/u1: served, and out of the count.
      await served.gw.ask(gateway.hello(served.nonce), 'hello_ok');
      sockets.push(opened(await upgrade(temp.hub.url)));
      expect(await upgrade(temp.hub.url)).toMatchObject({ status: 503 });

      // The same device on another host: held for an approval, and out of the count too.
      await held.gw.ask(gateway.hello(held.nonce, { hostname: 'h2', osUser: 'u1' }), 'pending');
      sockets.push(opened(await upgrade(temp.hub.url)));
      expect(await upgrade(temp.hub.url)).toMatchObject({ status: 503 });
    } finally {
      await closeAll(sockets);
    }
  });

  it('caps pending handshakes in total and per address, as set', async () => {
    const small = await startTempHub('gantry-handshakes-small-', undefined, {
      handshakes: { maxPending: 3, maxPendingPerAddress: 2 },
    });
    const sockets: WebSocket[] = [];
    try {
      sockets.push(opened(await upgrade(small.hub.url, '127.0.0.1')));
      sockets.push(opened(await upgrade(small.hub.url, '127.0.0.1')));
      expect(await upgrade(small.hub.url, '127.0.0.1')).toMatchObject({ status: 503 });
      sockets.push(opened(await upgrade(small.hub.url, '127.0.0.2')));
      expect(await upgrade(small.hub.url, '127.0.0.3')).toMatchObject({ status: 503 });
    } finally {
      await closeAll(sockets);
      await small.stop();
    }
  });
});

describe('a changed fingerprint', () => {
  it('holds a hello from another host or OS user for a fingerprint approval, decided on the same socket', async () => {
    const gateway = await registerGateway();
    const first = await stranger();
    await first.gw.ask(gateway.hello(first.nonce), 'hello_ok');
    await first.gw.close();

    for (const [where, decision] of [
      [{ hostname: 'h2', osUser: 'u1' }, 'approve'],
      [{ hostname: 'h2', osUser: 'u2' }, 'deny'],
    ] as const) {
      const moved = await stranger();
      const pending = await moved.gw.ask(gateway.hello(moved.nonce, where), 'pending');
      const approval = approvalSchema.parse(await api(`/v1/approvals/${pending.approvalId}`));
      expect(approval).toMatchObject({
        kind: 'fingerprint',
        status: 'pending',
        gatewayId: gateway.gatewayId,
      });
      expect(approval.subject).toContain(where.osUser === 'u2' ? 'u2' : 'h2');
      await api(`/v1/approvals/${pending.approvalId}/${decision}`, { json: {} });
      if (decision === 'approve') {
        expect(await moved.gw.next('hello_ok')).toMatchObject({ gatewayId: gateway.gatewayId });
      } else {
        expect(await moved.gw.next('error')).toMatchObject({ code: 'device_denied' });
        expect((await moved.gw.closed).code).toBe(4003);
      }
      await moved.gw.close();
    }
  });
});
