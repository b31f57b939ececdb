// Delivery latency and event throughput through real hub and gateway processes, each measured side by
// side with the same process spawned directly, alternating so both see the same machine load.
//   created -> started: POST /v1/assignments until the provider process runs (it prints its clock)
//   created -> result:  POST until the client sees the final state over SSE (echo, and generic `true`)
//   events/s:           `seq 1 N` through gateway, outbox, hub (persisted) and SSE to this client,
//                       against piping the same command's output straight into this process
// Prints a table and writes bench/results/delivery.json. Usage: node bench/delivery.mjs [runs] [lines]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { benchHome, direct, hubClient, quantile as q, wallNs, writeResults } from './lib.mjs';

const runs = Number(process.argv[2] ?? 100);
const lines = Number(process.argv[3] ?? 200_000);
const { home, gantry, service, script, stop } = benchHome('gantry-bench-', { kill: 'SIGTERM' });

const hub = await service(['hub', 'start', '--port', '0', '--json']);
gantry(['login', '--url', hub.url, '--token', hub.ownerToken]);
const { create, follow } = hubClient(hub.url, hub.ownerToken);
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

/** Creates an assignment and follows its events until the end; returns the final assignment. */
async function assignAndFollow(agent, prompt, onEvent) {
  const created = await create(agent, prompt);
  return follow(created.id, onEvent);
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
const out = writeResults('delivery', {
  date: new Date().toISOString(),
  node: process.version,
  runs,
  rows,
  startedSplitP50Ms: splitRow,
  events: eventsRow,
});
console.log(`wrote ${out}`);

await stop(500);
