import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'vitest';
import { startHub } from '../packages/hub/src/server.ts';

it('raw', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scr-'));
  const hub = await startHub({ host: '127.0.0.1', port: 0, db: join(dir, 'hub.db'), dataDir: dir });
  for (const size of [100_000, 200_000]) {
    const t0 = Date.now();
    const sock = connect(hub.port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => {
      got += d.toString();
      console.log(
        size,
        Date.now() - t0,
        'ms data:',
        JSON.stringify(d.toString().slice(0, 60)),
        'len',
        d.length,
      );
    });
    sock.on('close', () => console.log(size, Date.now() - t0, 'ms CLOSED'));
    await new Promise((r) => sock.once('connect', r));
    const body = 'y'.repeat(size);
    sock.write(
      `POST /v1/assignments HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${size}\r\n\r\n`,
    );
    const flushed = sock.write(body);
    console.log(size, 'write returned', flushed);
    await sleep(100);
    sock.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(800);
    sock.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(200);
    sock.destroy();
  }
  await hub.close();
});
