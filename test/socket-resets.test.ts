// A peer that resets its connection right after asking for a WebSocket upgrade the server refuses
// (a wrong path, no local token) must not take the hub or the gateway daemon down (issue 10, item 4):
// Node hands an upgraded socket over with no error listener, so its ECONNRESET would be fatal.
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox, sleep } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';

/** Sends upgrade requests to `path` and resets each connection at once, `times` times. */
async function upgradeAndReset(url: string, path: string, times = 30): Promise<void> {
  const { port } = new URL(url);
  for (let i = 0; i < times; i += 1) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (!connected) return; // the server is gone: the caller's checks say so
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.alloc(16, i).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    // Sometimes at once, sometimes once the server had a moment to answer.
    if (i % 3 === 1) await sleep(1);
    socket.resetAndDestroy();
  }
  await sleep(300); // the resets reach the server
}

describe('connections reset during a refused upgrade', () => {
  const boxes: Sandbox[] = [];
  afterAll(() => Promise.all(boxes.map((box) => box.cleanup())));
  const sandbox = () => {
    const box = new Sandbox();
    boxes.push(box);
    return box;
  };

  it('leave the hub running', async () => {
    const { hub, ready } = await startHub(sandbox());
    await upgradeAndReset(ready.url, '/nope');
    expect(hub.proc.exitCode).toBeNull();
    expect((await fetch(`${ready.url}/v1/health`)).status).toBe(200);
  });

  it('leave the gateway daemon running', async () => {
    const box = sandbox();
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'resets');
    const gateway = box.start(
      ['gateway', 'run', '--server-url', ready.url, '--provider', 'echo', '--port', '0', '--json'],
      { GANTRY_API_KEY: agent.key },
    );
    const { localApiUrl } = await gateway.ready<{ localApiUrl: string }>();
    await upgradeAndReset(localApiUrl, '/api/agent/ws'); // no local token
    await upgradeAndReset(localApiUrl, '/nope');
    expect(gateway.proc.exitCode).toBeNull();
    expect(await (await fetch(`${localApiUrl}/api/health`)).json()).toEqual({ ok: true });
  });
});
