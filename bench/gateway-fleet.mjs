// Simulated gateways speaking the real protocol to a hub: each has its own agent and Ed25519 device
// key, registers (`POST /v1/gateways/connect`), exchanges its gateway token for an access token,
// opens /v1/gateway/ws, signs the `welcome` nonce in its hello and then heartbeats at the hub's
// interval, like an idle gateway with one free slot. Offers (none are expected) are rejected.
// bench/gateways.mjs runs several of these worker processes side by side; each connects its share
// with bounded concurrency: HTTP steps (agent, connect, exchange) `--http` at a time, WebSocket
// handshakes `--ws` at a time (the sum over workers stays under the hub's 64 pending handshakes per
// address). Device keys are made before the clock starts. It sends {ready, failures, ms} once a
// {grow: n} is served. Usage: node bench/gateway-fleet.mjs URL OWNER_TOKEN --worker W [--http N] [--ws N]
import { generateKeyPairSync, sign } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    worker: { type: 'string', default: '0' },
    http: { type: 'string', default: '32' },
    ws: { type: 'string', default: '28' },
  },
});
const [url, ownerToken] = positionals;
const owner = { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' };
const { version } = await (await fetch(`${url}/v1/health`)).json();
const sockets = [];
let made = 0;
let failures = 0;

/** At most `n` at a time. */
function limiter(n) {
  let active = 0;
  const waiting = [];
  return async (fn) => {
    if (active >= n) await new Promise((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await fn();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}
const httpSlot = limiter(Number(opts.http));
const wsSlot = limiter(Number(opts.ws));

async function post(path, headers, body) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  if (!text) throw new Error(`${path}: HTTP ${res.status} with an empty body`);
  return JSON.parse(text);
}

/** Agent, registration and access token: what a gateway has before it dials the socket. */
async function register(name, device) {
  const { key } = await post('/v1/agents', owner, { name });
  const connected = await post(
    '/v1/gateways/connect',
    { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    { name: `${name}-gw`, provider: 'echo', hostname: name, osUser: 'sim', publicKey: device.publicPem },
  );
  const { accessToken } = await post('/v1/auth/exchange', {
    authorization: `Bearer ${connected.gatewayToken}`,
  });
  return { agentId: connected.agent.id, accessToken };
}

/** The socket from dial to `hello_ok`; heartbeats follow at the hub's interval. */
function serve(name, device, { agentId, accessToken }) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/gateway/ws`, { perMessageDeflate: false });
  sockets.push(ws);
  let seenOffers = 0;
  const capacity = { slots: 1, agents: [{ agentId, provider: 'echo', slots: 1 }] };
  const heartbeat = () => JSON.stringify({ t: 'heartbeat', ...capacity, seenOffers });
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.t === 'welcome') {
        const signature = sign(null, Buffer.from(frame.nonce, 'utf8'), device.privateKey).toString(
          'base64url',
        );
        const hello = { t: 'hello', token: accessToken, version, hostname: name, osUser: 'sim', signature };
        ws.send(JSON.stringify({ ...hello, ...capacity, held: [] }));
      } else if (frame.t === 'hello_ok') {
        // Spread over the interval, as gateways started at different times would be.
        const start = setTimeout(() => {
          const timer = setInterval(() => ws.send(heartbeat()), frame.heartbeatMs);
          ws.once('close', () => clearInterval(timer));
        }, Math.random() * frame.heartbeatMs);
        ws.once('close', () => clearTimeout(start));
        ws.removeAllListeners('error');
        ws.on('error', () => {});
        resolve();
      } else if (frame.t === 'offer') {
        seenOffers = frame.n;
        const { id: assignmentId, attempt } = frame.assignment;
        ws.send(
          JSON.stringify({ t: 'reject', assignmentId, attempt, offerId: frame.offerId, reason: 'simulated' }),
        );
      } else if (frame.t === 'error' || frame.t === 'pending') {
        reject(new Error(`${frame.t}: ${frame.message ?? ''}`));
      }
    });
  });
}

async function grow(n) {
  // Keys first, so the clock measures the hub and not key generation.
  const devices = Array.from({ length: n }, () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) };
  });
  const started = performance.now();
  await Promise.all(
    devices.map(async (device) => {
      const name = `sim-${opts.worker}-${made++}`;
      try {
        const registered = await httpSlot(() => register(name, device));
        await wsSlot(() => serve(name, device, registered));
      } catch (err) {
        failures += 1;
        if (failures <= 5) process.stderr.write(`fleet ${opts.worker}: ${name}: ${err.message}\n`);
      }
    }),
  );
  const ready = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  process.send?.({ ready, failures, ms: performance.now() - started });
}

process.on('message', (message) => {
  if (message.grow) void grow(message.grow);
  if (message.stop) {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
process.send?.({ started: true });
