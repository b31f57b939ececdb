import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { startHub } from '../packages/hub/src/server.ts';

it('keepalive after unread body', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scr-'));
  const hub = await startHub({ host: '127.0.0.1', port: 0, db: join(dir, 'hub.db'), dataDir: dir });
  const owner = hub.bootstrap.ownerToken!;
  const health = () =>
    fetch(hub.url + '/v1/health').then(
      (r) => r.status,
      (e: any) => `${e.message}: ${e.cause?.message}`,
    );
  for (const [what, headers] of [
    ['text/plain', { authorization: `Bearer ${owner}`, 'content-type': 'text/plain' }],
    ['no token', { 'content-type': 'application/json' }],
    ['json invalid', { authorization: `Bearer ${owner}`, 'content-type': 'application/json' }],
  ] as const) {
    for (const size of [1000, 16_000, 64_000, 200_000, 900_000]) {
      const body = JSON.stringify({ agent: 'x', prompt: 'y'.repeat(size) });
      const first = await fetch(hub.url + '/v1/assignments', { method: 'POST', headers, body }).then(
        async (r) => `${r.status} conn=${r.headers.get('connection')}`,
        (e: any) => `${e.message}: ${e.cause?.message}`,
      );
      const next = [await health(), await health()];
      console.log(what, size, first, '->', next.join(','));
    }
  }
  await hub.close();
});
