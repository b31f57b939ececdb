// The gateway's local API on 127.0.0.1: runs without the hub, streams over a WebSocket, keeps a history,
// and refuses what is not its own user's: no or a wrong token, a foreign Host, a cross-site Origin, a form body.
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRunResult, LocalWsServerFrame } from '@gantry/protocol';
import { eventually, Sandbox, type Service } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';
import { groupRunning } from './processes.ts';

describe('local API', () => {
  const box = new Sandbox();
  let hub: Service;
  let api: string;
  let token: string;

  beforeAll(async () => {
    const started = await startHub(box);
    hub = started.hub;
    const agent = await createAgent(box, 'local');
    const bin = box.script(
      'agent.sh',
      `echo "hello from $GANTRY_AGENT_NAME: $1"
case "$1" in *slow*) echo $$ > "$GANTRY_WORKDIR/../../slow.pid"; sleep 60 ;; esac`,
    );
    const gateway = box.start(
      [
        'gateway',
        'run',
        '--server-url',
        started.ready.url,
        '--provider',
        'generic',
        '--provider-bin',
        bin,
        '--port',
        '0',
        '--json',
      ],
      { GANTRY_API_KEY: agent.key, GANTRY_STOP_GRACE_MS: '200' },
    );
    api = (await gateway.ready<{ localApiUrl: string }>()).localApiUrl;
    token = readFileSync(join(box.home, 'config', 'local-api.token'), 'utf8').trim();
  });
  afterAll(() => box.cleanup());

  /** A raw request, so Host and Origin can be anything (fetch will not send a foreign Host). */
  function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
    return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = request(`${api}${path}`, { method, headers }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const auth = () => ({ authorization: `Bearer ${token}` });
  const json = { 'content-type': 'application/json' };

  it('answers health without a token with {ok} alone, and with it: version, hub connection, agents, providers', async () => {
    const anyone = await call('GET', '/api/health');
    expect(anyone).toEqual({ status: 200, json: { ok: true } });
    const { status, json: health } = await call('GET', '/api/health', auth());
    expect(status).toBe(200);
    expect(health).toMatchObject({
      ok: true,
      connected: true,
      agents: [{ name: 'local', provider: 'generic' }],
    });
    expect(health.version).toEqual(expect.any(String));
    expect(health.providers).toEqual([expect.objectContaining({ provider: 'generic', ok: true })]);
  });

  it('refuses a missing or wrong token, a foreign Host, a cross-site Origin and a form body', async () => {
    const body = JSON.stringify({ agentId: 'local', prompt: 'x' });
    const cases: [Record<string, string>, string | undefined, number, string][] = [
      [{ ...json }, body, 401, 'unauthorized'],
      [{ ...json, authorization: 'Bearer nope' }, body, 401, 'unauthorized'],
      [{ ...json, ...auth(), host: 'evil.example:80' }, body, 403, 'forbidden'],
      [{ ...json, ...auth(), origin: 'https://evil.example' }, body, 403, 'forbidden'],
      [
        { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
        'agentId=local&prompt=x',
        400,
        'invalid_request',
      ],
      [{ ...json, ...auth() }, '{not json', 400, 'invalid_request'],
      [{ ...json, ...auth() }, JSON.stringify({ agentId: 'local' }), 400, 'invalid_request'],
      [{ ...json, ...auth() }, JSON.stringify({ agentId: 'ghost', prompt: 'x' }), 404, 'not_found'],
    ];
    for (const [headers, payload, status, code] of cases) {
      const res = await call('POST', '/api/agent/run', headers, payload);
      expect({ headers, status: res.status, code: (res.json.error as { code: string }).code }).toEqual({
        headers,
        status,
        code,
      });
    }
    const deep = `{"agentId":"local","prompt":${'['.repeat(65)}${']'.repeat(65)}}`;
    expect(await call('POST', '/api/agent/run', { ...json, ...auth() }, deep)).toMatchObject({
      status: 400,
      json: { error: { code: 'invalid_request', message: 'the body nests deeper than 64 levels' } },
    });
    expect((await call('GET', '/api/status')).status).toBe(401);
    expect((await call('GET', '/api/health', { host: 'evil.example' })).status).toBe(403);
  });

  it('runs an agent here and keeps the run in its history', async () => {
    const res = await call(
      'POST',
      '/api/agent/run',
      { ...json, ...auth() },
      JSON.stringify({ agentId: 'local', prompt: 'one' }),
    );
    expect(res.status).toBe(200);
    const run = res.json as unknown as LocalRunResult;
    expect(run).toMatchObject({
      status: 'succeeded',
      output: 'hello from local: one',
      exitCode: 0,
      agent: { name: 'local' },
    });
    expect(run.events.map((e) => [e.seq, e.type])).toEqual([[1, 'output']]);
    const again = await call('GET', `/api/agent/runs/${run.id}`, auth());
    expect(again.json).toEqual(res.json);
  });

  it('streams a run over the WebSocket, and a closed socket cancels the run', async () => {
    const frames = await new Promise<LocalWsServerFrame[]>((resolve, reject) => {
      const seen: LocalWsServerFrame[] = [];
      const ws = new WebSocket(`${api.replace('http', 'ws')}/api/agent/ws`, { headers: auth() });
      ws.on('open', () => ws.send(JSON.stringify({ t: 'run', agentId: 'local', prompt: 'streamed' })));
      ws.on('message', (data) => seen.push(JSON.parse(String(data)) as LocalWsServerFrame));
      ws.on('close', () => resolve(seen));
      ws.on('error', reject);
    });
    expect(frames.map((f) => f.t)).toEqual(['started', 'event', 'result']);
    expect(frames[2]).toMatchObject({
      t: 'result',
      run: { status: 'succeeded', output: 'hello from local: streamed' },
    });

    let runId = '';
    const ws = new WebSocket(`${api.replace('http', 'ws')}/api/agent/ws`, { headers: auth() });
    ws.on('open', () => ws.send(JSON.stringify({ t: 'run', agentId: 'local', prompt: 'slow one' })));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as LocalWsServerFrame;
      if (frame.t === 'started') runId = frame.id;
    });
    const pidFile = join(box.home, 'slow.pid');
    const pgid = await eventually(async () => {
      try {
        return Number(readFileSync(pidFile, 'utf8'));
      } catch {
        return undefined;
      }
    });
    ws.close();
    const record = await eventually(async () => {
      const res = await call('GET', `/api/agent/runs/${runId}`, auth());
      return res.status === 200 ? (res.json as unknown as LocalRunResult) : undefined;
    });
    expect(record.status).toBe('cancelled');
    expect(groupRunning(pgid)).toBe(false);
  });

  it('lives through a frame of invalid UTF-8 and one over the limit: those sockets close, runs go on', async () => {
    const pidFile = join(box.home, 'slow.pid');
    rmSync(pidFile, { force: true });
    const running = new WebSocket(`${api.replace('http', 'ws')}/api/agent/ws`, { headers: auth() });
    running.on('open', () =>
      running.send(JSON.stringify({ t: 'run', agentId: 'local', prompt: 'slow two' })),
    );
    const pgid = await eventually(async () => {
      try {
        return Number(readFileSync(pidFile, 'utf8'));
      } catch {
        return undefined;
      }
    });

    /** Opens a socket, sends one raw frame, and resolves with the close code. */
    const closeCode = (payload: Buffer) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${api.replace('http', 'ws')}/api/agent/ws`, { headers: auth() });
        ws.on('open', () => ws.send(payload, { binary: false }));
        ws.on('close', (code) => resolve(code));
        ws.on('error', () => undefined);
      });
    expect(await closeCode(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe(1007);
    expect(await closeCode(Buffer.alloc(1024 * 1024 + 1, 'x'))).toBe(1009);

    expect((await call('GET', '/api/health', auth())).json).toMatchObject({ ok: true, connected: true });
    expect(groupRunning(pgid)).toBe(true);
    expect(running.readyState).toBe(WebSocket.OPEN);
    running.close();
    await eventually(async () => (groupRunning(pgid) ? undefined : true));
  });

  it('refuses a WebSocket without the token', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${api.replace('http', 'ws')}/api/agent/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('runs without the hub', async () => {
    await hub.stop();
    const res = await call(
      'POST',
      '/api/agent/run',
      { ...json, ...auth() },
      JSON.stringify({ agentId: 'local', prompt: 'offline' }),
    );
    expect(res.json).toMatchObject({ status: 'succeeded', output: 'hello from local: offline' });
  });
});
