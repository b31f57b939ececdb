// Unauthenticated sockets cannot exhaust a hub (issue 10, item 3): 30 raw sockets that never say
// hello each write two 16 MiB frames at a real hub process. Its memory grows well under 150 MB,
// /v1/health answers within a second throughout, every such socket is closed, and a real gateway
// still connects and runs work afterwards. (bench/prehello-flood.mjs measures the same at length.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { Sandbox, sleep } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';

const sockets = 30;
const framesPerSocket = 2;
const frameBytes = 16 * 1024 * 1024;
/** One payload for every frame: the test itself should not hold 30 copies. */
const payload = Buffer.alloc(frameBytes, 'x');

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** One /v1/health request: how long it took (Infinity when it failed). */
async function healthMs(url: string): Promise<number> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(10_000) });
    await res.text();
    return res.ok ? performance.now() - started : Infinity;
  } catch {
    return Infinity;
  }
}

/** A raw socket that upgrades to the gateway WebSocket and writes 16 MiB text frames, ignoring any answer. */
function flooder(port: number): { socket: Socket; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET /v1/gateway/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  socket.resume();
  // FIN + text, masked with a zero key (the payload goes as is), 64-bit length.
  const header = Buffer.alloc(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeUInt32BE(frameBytes, 6);
  for (let f = 0; f < framesPerSocket; f += 1) {
    socket.write(header);
    socket.write(payload);
  }
  return { socket, closed };
}

describe('a flood of sockets that never say hello', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it('costs the hub well under 150 MB, never holds /v1/health up for a second, and is closed', async () => {
    const { hub, ready } = await startHub(box);
    const pid = hub.proc.pid ?? 0;
    for (let i = 0; i < 10; i += 1) await healthMs(ready.url);
    const baseline = rssMb(pid);

    const port = Number(new URL(ready.url).port);
    const flood = Array.from({ length: sockets }, () => flooder(port));
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 25);
    let closedCount = 0;
    for (const { closed } of flood) void closed.then(() => (closedCount += 1));
    const health: number[] = [];
    try {
      // Until the hub has closed every socket, and a little longer for whatever it still holds.
      const deadline = Date.now() + 20_000;
      while (closedCount < sockets && Date.now() < deadline) {
        health.push(await healthMs(ready.url));
        await sleep(100);
      }
      for (let i = 0; i < 10; i += 1) {
        health.push(await healthMs(ready.url));
        await sleep(100);
      }
    } finally {
      clearInterval(sampler);
      for (const { socket } of flood) socket.destroy();
    }
    const seen = `RSS ${baseline.toFixed(0)} -> ${peak.toFixed(0)} MB, slowest health ${Math.max(...health).toFixed(0)} ms`;
    expect(peak - baseline, seen).toBeLessThan(150);
    expect(Math.max(...health), seen).toBeLessThan(1000);
    expect(closedCount, seen).toBe(sockets);

    // An honest gateway still gets in and runs work.
    const agent = await createAgent(box, 'after-flood');
    await box
      .start(['gateway', 'run', '--server-url', ready.url, '--provider', 'echo', '--port', '0', '--json'], {
        GANTRY_API_KEY: agent.key,
      })
      .ready();
    const done = await box.json<Assignment>(['assign', 'after-flood', 'still here?', '--wait', '30s']);
    expect(done.result?.output).toBe('echo: still here?');
  });
});
