// The live activity stream and `watch`: `gantry up` in one shell; `events stream`, `watch` and raw
// SSE clients in others. Resuming after a dropped connection must miss nothing and repeat nothing.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, Assignment } from '@gantry/protocol';
import { eventually, Sandbox, sleep, type Service, savedSession } from './harness.ts';

describe('activity stream and watch', () => {
  const box = new Sandbox();
  let hubUrl: string;
  let ownerToken: string;
  let watcher: { id: string; key: string };
  let hubDb: string;

  beforeAll(async () => {
    const up = box.start(['up', '--port', '0', '--gateway-port', '0', '--json']);
    const ready = await up.ready<{ hub: { url: string }; ownerTokenFile: string }>();
    hubUrl = ready.hub.url;
    ownerToken = readFileSync(ready.ownerTokenFile, 'utf8').trim();
    hubDb = join(dirname(ready.ownerTokenFile), 'hub.db');
    const created = await api('POST', '/v1/agents', { name: 'watcher', kind: 'pass_through' });
    watcher = { id: created.id as string, key: created.key as string };
  });
  afterAll(() => box.cleanup());

  async function api(
    method: string,
    path: string,
    body?: unknown,
    token = ownerToken,
  ): Promise<Record<string, unknown>> {
    const response = await fetch(`${hubUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  const send = (body: string, to?: string[]) => api('POST', '/v1/messages', { body, ...(to ? { to } : {}) });

  async function since(id: number, query = ''): Promise<ActivityEvent[]> {
    const response = await fetch(`${hubUrl}/v1/events?since=${id}&limit=10000${query}`, {
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as ActivityEvent[];
  }

  /**
   * A raw SSE client: reads until `stop` says so (or the stream ends), then disconnects.
   * `ready` is the id the stream starts after.
   */
  async function readSse(
    options: { lastEventId?: number; query?: string; token?: string; idleMs?: number },
    stop: (events: ActivityEvent[]) => boolean,
  ): Promise<{ ready?: number; events: ActivityEvent[]; status: number }> {
    const abort = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const waitIdle = () => {
      clearTimeout(idle);
      if (options.idleMs !== undefined) idle = setTimeout(() => abort.abort(), options.idleMs);
    };
    const response = await fetch(`${hubUrl}/v1/events${options.query ?? ''}`, {
      headers: {
        authorization: `Bearer ${options.token ?? ownerToken}`,
        accept: 'text/event-stream',
        ...(options.lastEventId === undefined ? {} : { 'last-event-id': String(options.lastEventId) }),
      },
      signal: abort.signal,
    });
    const out: { ready?: number; events: ActivityEvent[]; status: number } = {
      events: [],
      status: response.status,
    };
    if (!response.ok) return out;
    const parser = createParser({
      onEvent: (message) => {
        if (message.event === 'ready') out.ready = Number(message.id);
        if (message.event === 'activity') {
          const event = JSON.parse(message.data) as ActivityEvent;
          expect(message.id).toBe(String(event.id));
          out.events.push(event);
        }
      },
    });
    const decoder = new TextDecoder();
    try {
      waitIdle();
      for await (const chunk of response.body ?? []) {
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        if (out.ready !== undefined && stop(out.events)) break;
        waitIdle();
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      clearTimeout(idle);
      abort.abort();
    }
    return out;
  }

  /** The id the log stands at now (where a stream without a position starts). */
  async function lastId(): Promise<number> {
    const { ready } = await readSse({}, () => true);
    return ready ?? -1;
  }

  const lines = (service: Service) =>
    service.stdout
      .split('\n')
      .slice(0, -1) // the last piece is not a whole line yet
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as ActivityEvent);

  /** Runs `produce` until `service` exits: it proves the service was listening when something came. */
  async function until(service: Service, produce: () => Promise<unknown>): Promise<number | null> {
    let code: number | null | undefined;
    void service.exited.then((c) => (code = c));
    const deadline = Date.now() + 20_000;
    while (code === undefined && Date.now() < deadline) {
      await produce();
      await sleep(150);
    }
    return service.exited;
  }

  it('resumes a raw SSE client by Last-Event-ID with no gap and no duplicate while events keep coming', async () => {
    const start = await lastId();
    const total = 200;
    let produced = 0;
    const producer = (async () => {
      for (; produced < total; produced++) await send(`load ${produced}`);
    })();
    const received: ActivityEvent[] = [];
    let cursor = start;
    let connections = 0;
    // Each connection reads a few events and drops; the next one resumes from the last id it saw.
    for (;;) {
      const take = 5 + ((connections * 7) % 40);
      const done = produced >= total;
      const { events, ready } = await readSse(
        { lastEventId: cursor, idleMs: 1000 },
        (got) => got.length >= take,
      );
      connections += 1;
      expect(ready).toBe(cursor);
      received.push(...events);
      cursor = received.at(-1)?.id ?? cursor;
      if (done && events.length < take) break;
    }
    await producer;
    const ids = received.map((e) => e.id);
    expect(ids.length).toBeGreaterThanOrEqual(total);
    expect(ids).toEqual(ids.map((_, i) => start + 1 + i));
    expect(connections).toBeGreaterThan(5);
    // The JSON listing says the same: every entry after `start`, in order.
    expect((await since(start)).map((e) => e.id)).toEqual(ids);
    const bodies = received.filter((e) => e.type === 'message.created').map((e) => messageOf(e).body);
    expect(bodies).toEqual(Array.from({ length: total }, (_, i) => `load ${i}`));
  });

  it('serves JSON after an id, filtered by type or prefix, and nothing without a position', async () => {
    const start = await lastId();
    await send('json one');
    const assignment = await api('POST', '/v1/assignments', { agent: 'echo', prompt: 'json two' });
    const all = await since(start);
    expect(all[0]).toMatchObject({ id: start + 1, type: 'message.created', actor: { name: 'owner' } });
    expect((await since(start, '&type=message.created')).every((e) => e.type === 'message.created')).toBe(
      true,
    );
    const assignmentOnly = await since(start, '&type=assignment.');
    expect(assignmentOnly.length).toBeGreaterThan(0);
    expect(assignmentOnly.every((e) => e.type.startsWith('assignment.'))).toBe(true);
    const one = await fetch(`${hubUrl}/v1/events?since=${start}&limit=1`, {
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    expect(await one.json()).toHaveLength(1);
    const now = await fetch(`${hubUrl}/v1/events`, { headers: { authorization: `Bearer ${ownerToken}` } });
    expect(await now.json()).toEqual([]);
    // An agent of the workspace reads it too; a gateway's token does not.
    const asAgent = await readSse({ lastEventId: start, token: watcher.key }, (got) => got.length >= 1);
    expect(asAgent.events[0]?.id).toBe(start + 1);
    const session = savedSession(box.home) as {
      gatewayToken: string;
    };
    const asGateway = await readSse({ token: session.gatewayToken }, () => true);
    expect(asGateway.status).toBe(403);
    // Its run ends here, not in the middle of the next test.
    await eventually(async () => {
      const now = await since(start, '&type=assignment.finished');
      return now.some((e) => e.subject === assignment.id) ? true : undefined;
    });
    const bad = await fetch(`${hubUrl}/v1/events?since=x`, {
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    expect(bad.status).toBe(400);
  });

  it('`events list` shows the newest events oldest first, of a type; an agent sees only its own; a stream starts with them', async () => {
    await api('POST', '/v1/agents', { name: 'lister-other', kind: 'pass_through' });
    await send('list one');
    await send('list two');
    await send('for the other only', ['lister-other']);
    const bodies = (events: ActivityEvent[]) => events.map((e) => messageOf(e).body);
    const last = async (query: string, token = ownerToken) => {
      const response = await fetch(`${hubUrl}/v1/events?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, events: (await response.json()) as ActivityEvent[] };
    };
    const owner = await last('last=3&type=message.created');
    expect(bodies(owner.events)).toEqual(['list one', 'list two', 'for the other only']);
    expect(owner.events.map((e) => e.id)).toEqual([...owner.events.map((e) => e.id)].sort((a, b) => a - b));
    // An agent's newest are those it may read: the message to another agent is skipped, not counted.
    expect(bodies((await last('last=2&type=message.created', watcher.key)).events)).toEqual([
      'list one',
      'list two',
    ]);
    expect((await last('since=0&last=1')).status).toBe(400);

    const text = await box.run(['events', 'list', '--limit', '2', '--type', 'message.created']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^#\d+ \S+ message.created\s+owner\s+list two\n#\d+ .*for the other only\n$/);
    const json = await box.run(['events', 'list', '--limit', '1', '--type', 'message.created', '--json']);
    expect(bodies(JSON.parse(json.stdout) as ActivityEvent[])).toEqual(['for the other only']);
    expect((await box.run(['events', 'list', '--type', 'nosuch.'])).stdout).toBe('No such events.\n');
    // An entry of an earlier day comes under its date (written to the hub's store as a day's wait would).
    const db = new Database(hubDb);
    db.pragma('busy_timeout = 5000');
    const oldId = db.transaction(() => {
      const { value } = db
        .prepare("update counters set value = value + 1 where name = 'activity' returning value")
        .get() as { value: number };
      db.prepare(
        "insert into activity (id, workspace_id, type, ts, actor_kind, actor_id, actor_name, subject, data) values (?, ?, 'listener.note', ?, 'agent', ?, 'watcher', null, '{}')",
      ).run(
        value,
        messageOf(owner.events[0] as ActivityEvent).workspaceId,
        Date.parse('2026-01-02T03:04:05Z'),
        watcher.id,
      );
      return value;
    })();
    db.close();
    await api('POST', '/v1/events', { type: 'listener.note', data: {} }, watcher.key);
    const days = await box.run(['events', 'list', '--limit', '2', '--type', 'listener.note']);
    const today = new Date().toISOString().slice(0, 10);
    expect(days.stdout).toMatch(
      new RegExp(
        `^-- 2026-01-02 \\(UTC\\) --\\n#\\d+ 03:04:05 listener.note\\s+@watcher.*\\n-- ${today} \\(UTC\\) --\\n#\\d+ .*listener.note.*\\n$`,
      ),
    );

    // A replay from before it shows the day too.
    const replay = box.start(['events', 'stream', '--since', String(oldId - 1), '--type', 'listener.note']);
    await eventually(async () => (replay.stdout.includes(`-- ${today} (UTC) --`) ? true : undefined));
    expect(replay.stdout).toMatch(/^-- 2026-01-02 \(UTC\) --\n#\d+ 03:04:05 listener.note/);
    await replay.stop();

    // An agent's and a gateway's entries name them, not their ids.
    expect((await box.run(['agents', 'pause', 'watcher'])).code).toBe(0);
    expect((await box.run(['agents', 'resume', 'watcher'])).code).toBe(0);
    const agentLines = await box.run(['events', 'list', '--limit', '2', '--type', 'agent.']);
    expect(agentLines.stdout).toMatch(
      /agent\.paused\s+owner\s+@watcher\n.*agent\.resumed\s+owner\s+@watcher\n$/,
    );
    const gateways = await box.run(['events', 'list', '--type', 'gateway.connected']);
    expect(gateways.stdout).toMatch(/gateway\.connected\s+-\s+\S+: @echo\n$/);
    const usage = await box.run(['events', 'list', '--limit', 'all']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--limit must be a whole number/);

    // A stream asked for the newest two starts with them, then goes on live.
    const stream = await readSse({ query: '?last=2&type=message.created' }, (got) => got.length >= 2);
    expect(bodies(stream.events)).toEqual(['list two', 'for the other only']);
    const live = box.start(['events', 'stream', '--last', '1', '--type', 'message.created', '--json']);
    await eventually(async () => (lines(live).length >= 1 ? true : undefined));
    expect(bodies(lines(live))).toEqual(['for the other only']);
    await send('after the last');
    await eventually(async () => (lines(live).length >= 2 ? true : undefined));
    expect(bodies(lines(live))).toEqual(['for the other only', 'after the last']);
    await live.stop();
    // A read shows whose mail, not the entry's JSON.
    const mail = await api('POST', '/v1/messages', { body: 'read me', to: ['owner'] }, watcher.key);
    await api('POST', `/v1/messages/${String(mail.id)}/read`);
    const read = await box.run(['events', 'list', '--limit', '1', '--type', 'message.read']);
    expect(read.stdout).toMatch(
      new RegExp(`^#\\d+ \\S+ message.read\\s+owner\\s+read ${String(mail.id)}\\n$`),
    );
  });

  it('`events stream` shows only new events without --since, and replays after --since ID', async () => {
    const before = await lastId();
    const history = await send('before the stream');
    const historyId =
      (await since(before)).find((e) => e.type === 'message.created' && messageOf(e).id === history.id)?.id ??
      -1;
    const start = await lastId();
    const live = box.start(['events', 'stream', '--json']);
    // Until the stream is connected, sends go unseen: keep sending until one shows.
    let n = 0;
    await eventually(async () => {
      await send(`live ${n++}`);
      return lines(live).length > 0 ? true : undefined;
    });
    const seen = lines(live);
    expect(seen.every((e) => e.id > start)).toBe(true);
    expect(seen.map((e) => messageOf(e).id)).not.toContain(history.id);
    expect(seen[0]).toMatchObject({ type: 'message.created', actor: { kind: 'user', name: 'owner' } });

    const replay = box.start(['events', 'stream', '--since', String(historyId - 1), '--json']);
    await eventually(async () => (lines(replay).length >= 2 ? true : undefined));
    const replayed = lines(replay);
    expect(replayed[0]?.id).toBe(historyId);
    expect(messageOf(replayed[0] as ActivityEvent).body).toBe('before the stream');
    expect(replayed.map((e) => e.id)).toEqual(replayed.map((_, i) => historyId + i));

    const text = box.start(['events', 'stream', '--since', String(historyId - 1)]);
    await eventually(async () => (text.stdout.includes('before the stream') ? true : undefined));
    expect(text.stdout).toMatch(
      new RegExp(`^#${historyId} \\S+ message.created\\s+owner\\s+before the stream`, 'm'),
    );

    // Ctrl+C ends it the usual way.
    expect(await live.stop('SIGINT')).toBe(130);
    await replay.stop();
    await text.stop();

    const usage = await box.run(['events', 'stream', '--since', 'yesterday']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/invalid --since 'yesterday'/);
  });

  it('`events stream` resumes after its connection drops: nothing missed, nothing repeated', async () => {
    const proxy = await dropProxy(new URL(hubUrl));
    try {
      const start = await lastId();
      const stream = box.start(['events', 'stream', '--since', String(start), '--json', '--hub', proxy.url]);
      const total = 150;
      for (let i = 0; i < total; i++) {
        await send(`through the proxy ${i}`);
        // The first drop must find the stream connected.
        if (i === 0) await eventually(async () => (lines(stream).length > 0 ? true : undefined));
        if (i === 40) proxy.dropAll();
        if (i === 100) {
          await eventually(async () => (proxy.connections() >= 2 ? true : undefined));
          proxy.dropAll();
        }
      }
      const last = (await since(start)).at(-1)?.id ?? -1;
      await eventually(async () => (lines(stream).at(-1)?.id === last ? true : undefined));
      const ids = lines(stream).map((e) => e.id);
      expect(ids).toEqual(ids.map((_, i) => start + 1 + i));
      expect(proxy.connections()).toBeGreaterThanOrEqual(3);
      await stream.stop();
    } finally {
      await proxy.close();
    }
  });

  it('records an assignment from creation through progress to its end', async () => {
    const start = await lastId();
    const stream = box.start([
      'events',
      'stream',
      '--since',
      String(start),
      '--type',
      'assignment.',
      '--json',
    ]);
    // --continue with no earlier conversation makes the run say so: a provider `status` event.
    const done = await box.json<Assignment>([
      'assign',
      'echo',
      'lifecycle please',
      '--session',
      'life',
      '--continue',
      '--wait',
    ]);
    expect(done.state).toBe('succeeded');
    const mine = () => lines(stream).filter((e) => e.data.assignmentId === done.id);
    await eventually(async () => (mine().some((e) => e.type === 'assignment.finished') ? true : undefined));
    const events = mine();
    expect(events.map((e) => e.type).sort()).toEqual(
      ['assignment.created', 'assignment.finished', 'assignment.progress', 'assignment.started'].sort(),
    );
    expect(events[0]).toMatchObject({
      type: 'assignment.created',
      actor: { kind: 'user', name: 'owner' },
      subject: done.id,
      data: { agent: { name: 'echo' }, prompt: 'lifecycle please', sessionKey: 'life', state: 'queued' },
    });
    expect(events.find((e) => e.type === 'assignment.started')).toMatchObject({
      actor: { kind: 'agent', name: 'echo' },
      data: { state: 'running', gatewayId: done.gatewayId, attempt: 1 },
    });
    expect(events.find((e) => e.type === 'assignment.progress')?.data.message).toMatch(/no earlier session/);
    expect(events.at(-1)).toMatchObject({
      type: 'assignment.finished',
      actor: { kind: 'agent', name: 'echo' },
      data: { state: 'succeeded', output: 'echo: lifecycle please', error: null, exitCode: 0 },
    });
    expect(lines(stream).every((e) => e.type.startsWith('assignment.'))).toBe(true);
    await stream.stop();
  });

  it('`watch --event` exits 0 on a match; `--from` and `--contains` narrow it; `--timeout` exits 124', async () => {
    const watch = box.start([
      'watch',
      '--event',
      'assignment.finished',
      '--from',
      'echo',
      '--json',
      '--timeout',
      '25s',
    ]);
    expect(await until(watch, () => box.run(['assign', 'echo', 'wake the watcher', '--wait']))).toBe(0);
    const [matched, ...rest] = lines(watch);
    expect(rest).toEqual([]);
    expect(matched).toMatchObject({
      type: 'assignment.finished',
      actor: { name: 'echo' },
      data: { state: 'succeeded' },
    });

    const contains = box.start([
      'watch',
      '--contains',
      'NeEdLe',
      '--from',
      'owner',
      '--count',
      '2',
      '--json',
    ]);
    let i = 0;
    expect(
      await until(contains, async () => {
        await send(`hay ${i}`);
        await send(`a needle ${i++}`);
      }),
    ).toBe(0);
    const found = lines(contains);
    expect(found.map((e) => messageOf(e).body)).toEqual([
      expect.stringMatching(/^a needle/),
      expect.stringMatching(/^a needle/),
    ]);

    const started = Date.now();
    const timeout = await box.run(['watch', '--event', 'nothing.happens', '--timeout', '1s']);
    expect(timeout.code).toBe(124);
    expect(timeout.stderr).toMatch(/no matching event within 1\.0s/);
    expect(Date.now() - started).toBeLessThan(10_000);

    const bad = await box.run(['watch', '--count', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--count/);
  });

  it('`watch --mention` wakes on a message that mentions the caller, not on one that does not', async () => {
    const watch = box.start(['watch', '--mention', '--count', '2', '--json', '--timeout', '25s'], {
      GANTRY_TOKEN: watcher.key,
    });
    // Matching and other messages alternate, so one that does not match lies between any two that do.
    let i = 0;
    const code = await until(watch, async () => {
      await send(
        i % 2 === 0 ? `@watcher look at ${i}` : `also for you ${i}`,
        i % 2 === 0 ? undefined : ['watcher'],
      );
      await send(`nothing for you ${i++}`);
    });
    expect(code).toBe(0);
    const woke = lines(watch);
    expect(woke).toHaveLength(2);
    for (const event of woke) {
      expect(event.type).toBe('message.created');
      expect(messageOf(event).mentions.map((p) => p.id)).toContain(watcher.id);
    }
    // Between the two it woke on, a message that did not mention it went by unmatched.
    const between = await since((woke[0]?.id ?? 0) - 1);
    const skipped = between.filter(
      (e) => e.id > (woke[0]?.id ?? 0) && e.id < (woke[1]?.id ?? 0) && e.type === 'message.created',
    );
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.every((e) => !messageOf(e).mentions.some((p) => p.id === watcher.id))).toBe(true);
  });
});

interface WireMessage {
  workspaceId: string;
  id: string;
  body: string;
  mentions: { id: string; name: string }[];
}

function messageOf(event: ActivityEvent): WireMessage {
  return event.data.message as WireMessage;
}

/** A TCP proxy to the hub whose connections the test can cut, as a flaky network would. */
async function dropProxy(target: URL): Promise<{
  url: string;
  dropAll(): void;
  connections(): number;
  close(): Promise<void>;
}> {
  const open = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((client) => {
    count += 1;
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    dropAll: () => {
      for (const socket of open) socket.destroy();
    },
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
