import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'vitest';
import { startHub } from '../packages/hub/src/server.ts';

it('keepalive after unread body', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scr-'));
  const hub = await startHub({ host: '127.0.0.1', port: 0, db: join(dir, 'hub.db'), dataDir: dir });
  const owner = hub.bootstrap.ownerToken!;
  const health = () =>
    fetch(hub.url + '/v1/health').then(
      (r) => String(r.status),
      (e: any) => `FAIL(${e.cause?.message})`,
    );
  for (const size of [20_000, 70_000, 100_000, 150_000, 300_000]) {
    for (const gap of [0, 100, 600]) {
      const out: string[] = [];
      for (let rep = 0; rep < 3; rep++) {
        const t0 = Date.now();
        const body = 'y'.repeat(size);
        await fetch(hub.url + '/v1/assignments', {
          method: 'POST',
          headers: { authorization: `Bearer ${owner}`, 'content-type': 'text/plain' },
          body,
        });
        await sleep(gap);
        const a = await health();
        const b = await health();
        const c = await health();
        out.push(`${a},${b},${c}(${Date.now() - t0}ms)`);
        await sleep(700);
      }
      console.log('RESULT', size, gap, out.join(' | '));
    }
  }
  await hub.close();
}, 120000);
