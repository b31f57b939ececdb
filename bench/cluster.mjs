// Several hubs, one system: two real hub processes on one fresh PostgreSQL database, each figure
// measured across hubs beside the same on one hub, in one run:
//   dispatch:   POST /v1/assignments on hub A until a gateway (played here over the real WebSocket
//               protocol, no device key) gets its `start` frame, connected to B vs connected to A
//   activity:   POST /v1/messages on A until an SSE stream of the workspace's activity (GET /v1/events)
//               on B vs on A shows it
//   inbox wake: POST /v1/messages on A until an agent's pending `GET /v1/inbox?wait` on B vs on A
//               returns it
//   revocation: POST /v1/tokens/:id/revoke on A until a gateway socket on B vs on A is closed
//   rekey:      POST /v1/agents/:name/rotate-key on A until the gateway serving the agent, on B vs on A,
//               gets its `rekey` frame (across hubs through the store: the key never goes on the bus)
// Heartbeats are 20 s apart, so no periodic read helps. Prints a table and writes bench/results/cluster.json.
// Usage: node bench/cluster.mjs [--runs 50] [--revocations 15]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createParser } from 'eventsource-parser';
import { WebSocket } from 'ws';
import { onFailure, pgAdmin, postgresServer, readArgs, requirePostgres, wholeNumber } from './bench-args.mjs';
import { callJson, startService } from './lib.mjs';

const name = 'bench/cluster.mjs';
const opts = readArgs(name, 'node bench/cluster.mjs [--runs 50] [--revocations 15]', {
  runs: { type: 'string', default: '50' },
  revocations: { type: 'string', default: '15' },
});
const runs = wholeNumber(name, opts, 'runs');
const revocations = wholeNumber(name, opts, 'revocations');
const server = postgresServer;
await requirePostgres(name, server);
const database = `gantry_bench_cluster_${randomBytes(4).toString('hex')}`;
const home = mkdtempSync(join(tmpdir(), 'gantry-bench-cluster-'));
const children = [];

const admin = (statement) => pgAdmin(statement, server);

async function cleanup() {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
  );
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
}

function service(args, dir) {
  const env = { ...process.env, GANTRY_HOME: dir, GANTRY_LOG_LEVEL: 'error', GANTRY_HEARTBEAT_MS: '20000' };
  return startService(args, { env, node: [], track: (c) => children.push(c) });
}

// A failure in a callback, or Ctrl+C: one line, and the same clean-up.
onFailure(name, () => cleanup());

const call = callJson;
const post = (url, token, json) => call(url, token, { method: 'POST', body: JSON.stringify(json) });

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const now = () => performance.now();

/** A gateway speaking the protocol over the hub's WebSocket: accepts every offer at once. */
async function gateway(hubUrl, agent, name) {
  const connect = await post(`${hubUrl}/v1/gateways/connect`, agent.key, { name, provider: 'echo' });
  const ws = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}/v1/gateway/ws`);
  const started = new Map();
  const waiters = new Map();
  let onRekey;
  let helloOk;
  const ready = new Promise((resolve) => (helloOk = resolve));
  const closed = new Promise((resolve) => ws.once('close', resolve));
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (frame.t === 'welcome') {
      const agents = [{ agentId: agent.id, provider: 'echo', slots: 4 }];
      ws.send(
        JSON.stringify({
          t: 'hello',
          token: connect.gatewayToken,
          version: 'bench',
          slots: 4,
          agents,
          held: [],
        }),
      );
    } else if (frame.t === 'hello_ok') helloOk(frame);
    else if (frame.t === 'rekey') onRekey?.(now());
    else if (frame.t === 'offer') {
      const ref = {
        assignmentId: frame.assignment.id,
        attempt: frame.assignment.attempt,
        offerId: frame.offerId,
      };
      ws.send(JSON.stringify({ t: 'accept', ...ref }));
      ws.send(JSON.stringify({ t: 'starting', ...ref }));
    } else if (frame.t === 'start') {
      const at = now();
      started.set(frame.assignmentId, at);
      waiters.get(frame.assignmentId)?.(at);
      // The run ends at once: its slot is free for the next.
      const ref = { assignmentId: frame.assignmentId, attempt: frame.attempt };
      ws.send(
        JSON.stringify({ t: 'result', ...ref, status: 'succeeded', output: 'ok', exitCode: 0, lastSeq: 0 }),
      );
    }
  });
  const hello = await ready;
  return {
    gatewayId: hello.gatewayId,
    closed,
    close: () => ws.close(),
    startOf: (id) => started.get(id) ?? new Promise((resolve) => waiters.set(id, resolve)),
    /** Resolves with when the next `rekey` frame arrives. */
    rekeyed: () => new Promise((resolve) => (onRekey = resolve)),
  };
}

/** An SSE stream of the workspace's activity on a hub; `seen(text)` resolves when an entry with it arrives. */
async function activityStream(hubUrl, token) {
  const controller = new AbortController();
  const res = await fetch(`${hubUrl}/v1/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const waiters = new Map();
  let onReady;
  const ready = new Promise((resolve) => (onReady = resolve));
  const parser = createParser({
    onEvent: (event) => {
      if (event.event === 'ready') return onReady();
      for (const [text, resolve] of waiters) if (event.data.includes(text)) resolve(now());
    },
  });
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      /* aborted */
    }
  })();
  await ready;
  return {
    seen: (text) => new Promise((resolve) => waiters.set(text, resolve)),
    close: () => controller.abort(),
  };
}

try {
  await admin(`CREATE DATABASE ${database}`);
  const url = `${server}/${database}`;
  const dirs = ['a', 'b'].map((n) => {
    const dir = join(home, n);
    mkdirSync(dir);
    return dir;
  });
  const a = await service(['hub', 'start', '--port', '0', '--json', '--db', url], dirs[0]);
  const b = await service(['hub', 'start', '--port', '0', '--json', '--db', url], dirs[1]);
  const owner = a.ownerToken;
  const results = {};
  const row = (name, same, cross) => {
    const p50s = [percentile(same, 50), percentile(cross, 50)];
    results[name] = {
      sameHub: { p50: p50s[0], p99: percentile(same, 99), n: same.length },
      crossHub: { p50: p50s[1], p99: percentile(cross, 99), n: cross.length },
      ratio: p50s[1] / p50s[0],
    };
  };

  // ---- dispatch ----------------------------------------------------------------------------------
  const sameAgent = await post(`${a.url}/v1/agents`, owner, { name: 'same-hub' });
  const crossAgent = await post(`${a.url}/v1/agents`, owner, { name: 'cross-hub' });
  const onA = await gateway(a.url, sameAgent, 'gw-a');
  const onB = await gateway(b.url, crossAgent, 'gw-b');
  const dispatch = { same: [], cross: [] };
  for (let i = 0; i < runs + 5; i++) {
    for (const [kind, agent, gw] of [
      ['same', sameAgent, onA],
      ['cross', crossAgent, onB],
    ]) {
      const t0 = now();
      const created = await post(`${a.url}/v1/assignments`, owner, { agent: agent.name, prompt: `run ${i}` });
      const t1 = await gw.startOf(created.id);
      if (i >= 5) dispatch[kind].push(t1 - t0); // the first few warm up
    }
  }
  row('created on A -> started on gateway (ms)', dispatch.same, dispatch.cross);

  // ---- activity stream ----------------------------------------------------------------------------
  const streamA = await activityStream(a.url, owner);
  const streamB = await activityStream(b.url, owner);
  const activity = { same: [], cross: [] };
  for (let i = 0; i < runs; i++) {
    const text = `note-${i}-${randomBytes(3).toString('hex')}`;
    const seenA = streamA.seen(text);
    const seenB = streamB.seen(text);
    const t0 = now();
    await post(`${a.url}/v1/messages`, owner, { body: text });
    activity.same.push((await seenA) - t0);
    activity.cross.push((await seenB) - t0);
  }
  streamA.close();
  streamB.close();
  row('message posted on A -> activity stream (ms)', activity.same, activity.cross);

  // ---- inbox wake ---------------------------------------------------------------------------------
  const reader = await post(`${a.url}/v1/agents`, owner, { name: 'reader', kind: 'pass_through' });
  const inbox = { same: [], cross: [] };
  for (let i = 0; i < runs; i++) {
    for (const [kind, hub] of [
      ['same', a],
      ['cross', b],
    ]) {
      const waiting = call(`${hub.url}/v1/inbox?wait=20000&markRead=true`, reader.key);
      await new Promise((resolve) => setTimeout(resolve, 30)); // the wait is open
      const t0 = now();
      await post(`${a.url}/v1/messages`, owner, { body: `mail ${i}`, to: ['reader'] });
      const got = await waiting;
      if (got.messages.length !== 1) throw new Error(`inbox returned ${got.messages.length} messages`);
      inbox[kind].push(now() - t0);
    }
  }
  row('mail sent on A -> inbox wait returns (ms)', inbox.same, inbox.cross);

  // ---- revocation ---------------------------------------------------------------------------------
  const revoke = { same: [], cross: [] };
  for (let i = 0; i < revocations; i++) {
    for (const [kind, hub] of [
      ['same', a],
      ['cross', b],
    ]) {
      const agent = await post(`${a.url}/v1/agents`, owner, { name: `rv-${kind}-${i}` });
      const gw = await gateway(hub.url, agent, `rv-gw-${kind}-${i}`);
      const tokens = await call(`${a.url}/v1/tokens`, owner);
      const token = tokens.find((t) => t.kind === 'gateway' && t.ownerId === gw.gatewayId);
      const t0 = now();
      await post(`${a.url}/v1/tokens/${token.id}/revoke`, owner, {});
      await gw.closed;
      revoke[kind].push(now() - t0);
    }
  }
  row('token revoked on A -> gateway socket closed (ms)', revoke.same, revoke.cross);

  // ---- rekey --------------------------------------------------------------------------------------
  const rekey = { same: [], cross: [] };
  for (let i = 0; i < runs + 2; i++) {
    for (const [kind, agent, gw] of [
      ['same', sameAgent, onA],
      ['cross', crossAgent, onB],
    ]) {
      const got = gw.rekeyed();
      const t0 = now();
      const rotated = await post(`${a.url}/v1/agents/${agent.name}/rotate-key`, owner, {});
      if (rotated.key !== null) throw new Error(`rotate-key printed the key: no gateway got it (${kind})`);
      const t1 = await got;
      if (i >= 2) rekey[kind].push(t1 - t0); // the first warm up
    }
  }
  row('key rotated on A -> rekey at gateway (ms)', rekey.same, rekey.cross);
  onA.close();
  onB.close();

  const table = Object.entries(results).map(([name, r]) => ({
    measure: name,
    'same hub p50': r.sameHub.p50.toFixed(2),
    'same hub p99': r.sameHub.p99.toFixed(2),
    'cross-hub p50': r.crossHub.p50.toFixed(2),
    'cross-hub p99': r.crossHub.p99.toFixed(2),
    'cross/same': r.ratio.toFixed(2),
  }));
  console.table(table);
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  const out = new URL('results/cluster.json', import.meta.url);
  writeFileSync(out, `${JSON.stringify({ runs, revocations, results }, null, 2)}\n`);
  console.log(`wrote ${fileURLToPath(out)}`);
} catch (err) {
  console.error(`${name}: ${(process.env.BENCH_DEBUG && err.stack) || err.message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
