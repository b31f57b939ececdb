import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { startHub } from '../packages/hub/src/server.ts';

it('races', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scr-'));
  const hub = await startHub({ host: '127.0.0.1', port: 0, db: join(dir, 'hub.db'), dataDir: dir });
  const owner = hub.bootstrap.ownerToken!;
  const post = (path: string, body: unknown, token = owner) =>
    fetch(hub.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => r.status);
  for (let round = 0; round < 5; round++) {
    const rs = await Promise.all(
      Array.from({ length: 20 }, () => post('/v1/agents', { name: `dup${round}` })),
    );
    console.log('agents', rs.join(','));
  }
  const a = (await fetch(hub.url + '/v1/assignments', {
    method: 'POST',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'dup0', prompt: 'x' }),
  }).then((r) => r.json())) as any;
  const rs = await Promise.all(
    Array.from({ length: 20 }, () => post(`/v1/assignments/${a.id}/cancel`, undefined)),
  );
  console.log('cancel', rs.join(','));
  await hub.close();
});
