// Unauthenticated sockets against a real hub process: N raw sockets upgrade to /v1/gateway/ws and,
// without ever saying hello, each write frames of 16 MiB (not JSON) as fast as the hub reads them,
// ignoring whatever the hub answers. Samples the hub's RSS and how long /v1/health takes meanwhile.
// Prints a table and writes bench/results/prehello-flood.json.
// Usage: node bench/prehello-flood.mjs [sockets=30] [framesPerSocket=21] [seconds=15]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sockets = Number(process.argv[2] ?? 30);
const framesPerSocket = Number(process.argv[3] ?? 21);
const seconds = Number(process.argv[4] ?? 15);
const frameBytes = 16 * 1024 * 1024;
const cli = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));

const rssMb = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : NaN;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const home = mkdtempSync(join(tmpdir(), 'gantry-flood-'));
const hub = spawn(process.execPath, [cli, 'hub', 'start', '--port', '0', '--json'], {
  env: { ...process.env, GANTRY_HOME: home, GANTRY_LOG_LEVEL: 'error' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
hub.stdout.on('data', (chunk) => (out += chunk));
while (!out.includes('\n')) await sleep(20);
const { url } = JSON.parse(out.split('\n')[0]);
const { port } = new URL(url);

/** One health request; its latency in ms (Infinity when it failed). */
async function health() {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(30_000) });
    await res.text();
    return res.ok ? performance.now() - started : Infinity;
  } catch {
    return Infinity;
  }
}

// Warm up, then take the baseline.
for (let i = 0; i < 20; i++) await health();
await sleep(500);
const baseline = rssMb(hub.pid);

// A masked text frame header (mask key 0000: the payload goes as is) for a 16 MiB payload.
const header = Buffer.alloc(14);
header[0] = 0x81;
header[1] = 0x80 | 127;
header.writeUInt32BE(0, 2);
header.writeUInt32BE(frameBytes, 6);
const payload = Buffer.alloc(frameBytes, 'x');

let closedByHub = 0;
const open = [];
for (let i = 0; i < sockets; i++) {
  const socket = connect(Number(port), '127.0.0.1');
  open.push(socket);
  socket.on('error', () => {});
  socket.on('close', () => (closedByHub += 1));
  socket.write(
    `GET /v1/gateway/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  socket.resume(); // read and ignore whatever the hub answers
  let sent = 0;
  const pump = () => {
    while (sent < framesPerSocket && !socket.destroyed) {
      sent += 1;
      socket.write(header);
      if (!socket.write(payload)) return void socket.once('drain', pump);
    }
  };
  pump();
}

let peak = baseline;
let worstHealthMs = 0;
const until = Date.now() + seconds * 1000;
const sampler = setInterval(() => (peak = Math.max(peak, rssMb(hub.pid))), 50);
while (Date.now() < until) {
  worstHealthMs = Math.max(worstHealthMs, await health());
  await sleep(100);
}
clearInterval(sampler);
const after = rssMb(hub.pid);
const closedBefore = closedByHub;
for (const socket of open) socket.destroy();
hub.kill('SIGTERM');
await new Promise((resolve) => hub.once('exit', resolve));
rmSync(home, { recursive: true, force: true });

const row = {
  sockets,
  framesPerSocket,
  seconds,
  baselineMb: +baseline.toFixed(1),
  peakMb: +peak.toFixed(1),
  growthMb: +(peak - baseline).toFixed(1),
  afterMb: +after.toFixed(1),
  worstHealthMs: +worstHealthMs.toFixed(0),
  socketsClosedByHub: closedBefore,
};
console.log(`pre-hello flood: ${sockets} sockets x ${framesPerSocket} frames of 16 MiB, ${seconds} s`);
for (const [key, value] of Object.entries(row)) console.log(`${key.padEnd(20)} ${value}`);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const file = new URL('results/prehello-flood.json', import.meta.url);
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...row }, null, 2)}\n`,
);
console.log(`wrote ${fileURLToPath(file)}`);
