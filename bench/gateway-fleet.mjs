// N simulated gateways in one process, speaking the real protocol to a hub: each has its own agent
// and Ed25519 device key, registers (`POST /v1/gateways/connect`), exchanges its gateway token for an
// access token, opens /v1/gateway/ws, signs the `welcome` nonce in its hello and then heartbeats at the
// hub's interval, like an idle gateway with one free slot. Offers (none are expected) are rejected.
// Run by bench/gateways.mjs as a child process: it sends {ready} once all are served, and on
// {grow: M} connects M more. Usage: node bench/gateway-fleet.mjs URL OWNER_TOKEN
import { generateKeyPairSync, sign } from 'node:crypto';
import WebSocket from 'ws';

const [url, ownerToken] = process.argv.slice(2);
const concurrency = 24; // under the hub's 64 pending handshakes per address
const owner = { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' };
const { version } = await (await fetch(`${url}/v1/health`)).json();
const sockets = [];
let made = 0;
let failures = 0;

async function post(path, headers, body) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/** One gateway from nothing to served; resolves once `hello_ok` came. */
async function gateway(i) {
  const { key } = await post('/v1/agents', owner, { name: `sim-${i}` });
  const device = generateKeyPairSync('ed25519');
  const publicKey = device.publicKey.export({ type: 'spki', format: 'pem' });
  const connected = await post(
    '/v1/gateways/connect',
    { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    { name: `sim-gw-${i}`, provider: 'echo', hostname: `sim-${i}`, osUser: 'sim', publicKey },
  );
  const agentId = connected.agent.id;
  const { accessToken } = await post('/v1/auth/exchange', {
    authorization: `Bearer ${connected.gatewayToken}`,
  });
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/gateway/ws`, { perMessageDeflate: false });
  sockets.push(ws);
  let seenOffers = 0;
  const capacity = () => ({ slots: 1, agents: [{ agentId, provider: 'echo', slots: 1 }] });
  await new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.t === 'welcome') {
        const signature = sign(null, Buffer.from(frame.nonce, 'utf8'), device.privateKey).toString(
          'base64url',
        );
        ws.send(
          JSON.stringify({
            t: 'hello',
            token: accessToken,
            version,
            hostname: `sim-${i}`,
            osUser: 'sim',
            signature,
            ...capacity(),
            held: [],
          }),
        );
      } else if (frame.t === 'hello_ok') {
        // Spread over the interval, as gateways started at different times would be.
        const start = setTimeout(() => {
          const timer = setInterval(
            () => ws.send(JSON.stringify({ t: 'heartbeat', ...capacity(), seenOffers })),
            frame.heartbeatMs,
          );
          ws.once('close', () => clearInterval(timer));
        }, Math.random() * frame.heartbeatMs);
        ws.once('close', () => clearTimeout(start));
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
  ws.removeAllListeners('error');
  ws.on('error', () => {});
}

async function grow(n) {
  const target = made + n;
  const worker = async () => {
    while (made < target) {
      const i = made++;
      await gateway(i).catch((err) => {
        failures += 1;
        if (failures <= 5) process.stderr.write(`fleet: gateway ${i}: ${err.message}\n`);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  process.send?.({ ready: sockets.filter((s) => s.readyState === WebSocket.OPEN).length, failures });
}

process.on('message', (message) => {
  if (message.grow) void grow(message.grow);
  if (message.stop) {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
process.send?.({ started: true });
