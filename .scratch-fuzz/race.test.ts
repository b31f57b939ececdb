import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it, expect } from 'vitest';
import { WebSocket } from 'ws';
import { startHub } from '../packages/hub/src/server.ts';

it('race + cross-agent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scr-'));
  const hub = await startHub({ host: '127.0.0.1', port: 0, db: join(dir, 'hub.db'), dataDir: dir });
  const owner = hub.bootstrap.ownerToken!;
  const post = (path: string, body: unknown, token = owner) =>
    fetch(hub.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  const rs = await Promise.all([post('/v1/agents', { name: 'dup' }), post('/v1/agents', { name: 'dup' })]);
  console.log(
    'concurrent dup agents:',
    rs.map((r) => r.status + ' ' + JSON.stringify(r.body).slice(0, 120)),
  );

  // cross-agent: gateway attached to A heartbeats slots for B
  const a = (await post('/v1/agents', { name: 'aa' })).body;
  const b = (await post('/v1/agents', { name: 'bb' })).body;
  const conn = (await post('/v1/gateways/connect', { name: 'gwa', provider: 'echo' }, a.key)).body;
  const ws = new WebSocket(hub.url.replace('http', 'ws') + '/v1/gateway/ws');
  const got: any[] = [];
  ws.on('message', (d) => got.push(JSON.parse(String(d))));
  await new Promise((r) => ws.once('open', r));
  ws.send(
    JSON.stringify({
      t: 'hello',
      token: conn.gatewayToken,
      version: 't',
      slots: 1,
      agents: [{ agentId: a.id, provider: 'echo', slots: 1 }],
      held: [],
    }),
  );
  await new Promise((r) => setTimeout(r, 200));
  const asg = (await post('/v1/assignments', { agent: 'bb', prompt: 'secret for bb' })).body;
  ws.send(
    JSON.stringify({
      t: 'heartbeat',
      slots: 1,
      agents: [{ agentId: b.id, provider: 'echo', slots: 1 }],
      seenOffers: 0,
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  console.log(
    'frames to gateway of aa:',
    JSON.stringify(
      got.map((f) =>
        f.t === 'offer'
          ? { t: f.t, id: f.assignment.id, agent: f.assignment.agentName, prompt: f.assignment.prompt }
          : f.t,
      ),
    ),
    'bb assignment',
    asg.id,
  );
  ws.close();
  await hub.close();
});
