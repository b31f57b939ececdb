// Delivery latency and event throughput through real hub and gateway processes, each measured side by
// side with the same process spawned directly, alternating so both see the same machine load.
//   created -> started: POST /v1/assignments until the provider process runs (it prints its clock)
//   created -> result:  POST until the client sees the final state over SSE (echo, and generic `true`)
//   events/s:           `seq 1 N` through gateway, outbox, hub (persisted) and SSE to this client,
//                       against piping the same command's output straight into this process
// Prints a table and writes bench/results/delivery.json. Usage: node bench/delivery.mjs [runs] [lines]
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';

const runs = Number(process.argv[2] ?? 100);
const lines = Number(process.argv[3] ?? 200_000);
const cli = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'gantry-bench-'));
const env = { ...process.env, GANTRY_HOME: home, GANTRY_LOG_LEVEL: 'error' };
const children = [];

function gantry(args) {
  const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

// Node flags for the hub and gateway processes, e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

function service(args, extraEnv = {}) {
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`gantry ${args[0]} exited ${code}`)));
  });
}

function script(name, body) {
  const path = join(home, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const hub = await service(['hub', 'start', '--port', '0', '--json']);
gantry(['login', '--url', hub.url, '--token', hub.ownerToken]);
const headers = { authorization: `Bearer ${hub.ownerToken}`, 'content-type': 'application/json' };
const stamp = script('stamp.sh', 'date +%s%N');
const flood = script('flood.sh', `exec seq 1 ${lines}`);
const agents = {
  echo: ['echo'],
  stamp: ['generic', stamp],
  truth: ['generic', '/bin/true'],
  flood: ['generic', flood],
};
for (const [name, [provider, bin]] of Object.entries(agents)) {
  const { key } = JSON.parse(gantry(['agents', 'create', name, '--json']));
  const args = ['gateway', 'connect', '--server-url', hub.url, '--provider', provider, '--api-key', key];
  gantry(bin ? [...args, '--provider-bin', bin] : args);
}
for (const name of Object.keys(agents)) {
  mkdirSync(join(home, 'work', name), { recursive: true });
  gantry(['gateway', 'bind', '--agent', name, '--workdir', join(home, 'work', name)]);
}
await service(['gateway', 'start', '--port', '0', '--concurrency', '8', '--json']);

const nowNs = () => process.hrtime.bigint();
const wallNs = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

/** Creates an assignment and follows its events until the end; returns the final assignment. */
async function assignAndFollow(agent, prompt, onEvent) {
  const res = await fetch(`${hub.url}/v1/assignments`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ agent, prompt }),
  });
  const created = await res.json();
  const stream = await fetch(`${hub.url}/v1/assignments/${created.id}/events`, {
    headers: { ...headers, accept: 'text/event-stream' },
  });
  let final;
  const parser = createParser({
    onEvent: (message) => {
      if (message.event === 'event') onEvent?.(message.data);
      else if (message.event === 'end') final = JSON.parse(message.data);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of stream.body) parser.feed(decoder.decode(chunk, { stream: true }));
  return final;
}

function direct(bin, args = []) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('close', () => resolve(out.trim()));
  });
}

const samples = { pipeline: {}, direct: {} };
const split = [];
const add = (kind, name, ms) => (samples[kind][name] ??= []).push(ms);

for (let i = 0; i < runs + 5; i++) {
  const keep = i >= 5; // the first runs warm caches and JIT
  // created -> started (a process that prints its own clock when it runs)
  let t0 = wallNs();
  const stamped = await assignAndFollow('stamp', 'x');
  if (keep) {
    const ranAtNs = BigInt(stamped.result.output.trim());
    add('pipeline', 'created -> started', Number(ranAtNs - t0) / 1e6);
    // Where that time goes, by the hub's own clock (millisecond resolution).
    split.push({
      requestToStored: Date.parse(stamped.createdAt) - Number(t0 / 1_000_000n),
      storedToStarting: Date.parse(stamped.startedAt) - Date.parse(stamped.createdAt),
      startingToRunning: Number(ranAtNs / 1_000_000n) - Date.parse(stamped.startedAt),
    });
  }
  t0 = wallNs();
  const printed = await direct(stamp);
  if (keep) add('direct', 'created -> started', Number(BigInt(printed) - t0) / 1e6);
  // created -> result (echo has no process; generic `true` against spawning `true`)
  let t = nowNs();
  await assignAndFollow('echo', 'x');
  if (keep) add('pipeline', 'created -> result, echo', Number(nowNs() - t) / 1e6);
  t = nowNs();
  await direct('/bin/true');
  if (keep) add('direct', 'created -> result, echo', Number(nowNs() - t) / 1e6);
  t = nowNs();
  await assignAndFollow('truth', 'x');
  if (keep) add('pipeline', 'created -> result, true', Number(nowNs() - t) / 1e6);
  t = nowNs();
  await direct('/bin/true');
  if (keep) add('direct', 'created -> result, true', Number(nowNs() - t) / 1e6);
}

// Throughput: every line must arrive once, in order.
const throughput = { pipeline: [], direct: [] };
for (let i = 0; i < 3; i++) {
  let t = nowNs();
  let n = 0;
  let ordered = true;
  const final = await assignAndFollow('flood', 'x', (data) => {
    n += 1;
    if (ordered && JSON.parse(data).data.text !== String(n)) ordered = false;
  });
  const secs = Number(nowNs() - t) / 1e9;
  if (final.state !== 'succeeded' || n !== lines || !ordered)
    throw new Error(`lost or reordered: ${n}/${lines}, ordered=${ordered}`);
  throughput.pipeline.push(lines / secs);
  t = nowNs();
  const child = spawn(flood, [], { stdio: ['ignore', 'pipe', 'ignore'] });
  let m = 0;
  const reader = createInterface({ input: child.stdout });
  reader.on('line', () => (m += 1));
  await once(reader, 'close');
  throughput.direct.push(m / (Number(nowNs() - t) / 1e9));
}

const q = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];
const rows = Object.keys(samples.pipeline).map((name) => {
  const [pipe, dir] = [samples.pipeline[name], samples.direct[name]];
  return {
    name,
    pipelineP50Ms: +q(pipe, 0.5).toFixed(2),
    pipelineP99Ms: +q(pipe, 0.99).toFixed(2),
    directP50Ms: +q(dir, 0.5).toFixed(2),
    directP99Ms: +q(dir, 0.99).toFixed(2),
    ratioP50: +(q(pipe, 0.5) / q(dir, 0.5)).toFixed(2),
  };
});
const eventsRow = {
  name: `events/s (${lines} lines)`,
  pipeline: Math.round(q(throughput.pipeline, 0.5)),
  direct: Math.round(q(throughput.direct, 0.5)),
  ratio: +(q(throughput.pipeline, 0.5) / q(throughput.direct, 0.5)).toFixed(3),
};

console.log(`delivery, ${runs} runs each (alternating), store: sqlite`);
console.log(
  ['measure'.padEnd(26), 'gantry p50', 'gantry p99', 'direct p50', 'direct p99', 'x direct'].join('  '),
);
for (const r of rows) {
  console.log(
    [
      r.name.padEnd(26),
      ...[r.pipelineP50Ms, r.pipelineP99Ms, r.directP50Ms, r.directP99Ms, r.ratioP50].map((v) =>
        String(v).padStart(10),
      ),
    ].join('  '),
  );
}
const splitRow = Object.fromEntries(
  ['requestToStored', 'storedToStarting', 'startingToRunning'].map((k) => [
    k,
    q(
      split.map((x) => x[k]),
      0.5,
    ),
  ]),
);
console.log(
  `  created -> started, p50 by part (ms, hub clock): request -> stored ${splitRow.requestToStored}, stored -> 'starting' ${splitRow.storedToStarting}, 'starting' -> process running ${splitRow.startingToRunning}`,
);
console.log(
  `${eventsRow.name.padEnd(26)}  gantry ${eventsRow.pipeline}/s  direct ${eventsRow.direct}/s  (x ${eventsRow.ratio}, median of 3, none lost)`,
);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const out = new URL('results/delivery.json', import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, rows, startedSplitP50Ms: splitRow, events: eventsRow }, null, 2)}\n`,
);
console.log(`wrote ${fileURLToPath(out)}`);

for (const child of children.reverse()) child.kill('SIGTERM');
await new Promise((resolve) => setTimeout(resolve, 500));
rmSync(home, { recursive: true, force: true });
