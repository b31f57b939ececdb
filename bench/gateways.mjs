// Many connected gateways against one real hub process: the hub's RSS and CPU, `/v1/health` latency
// and created -> started to one real gateway (a generic provider that prints its clock), first with
// no other gateway connected, then with N simulated gateways (bench/gateway-fleet.mjs: real
// protocol, one agent and device key each, idle heartbeats at the hub's interval) for each N given.
// Prints a table and writes bench/results/gateways-<store>.json.
// Usage: node bench/gateways.mjs --count 100,1000,10000 [--store sqlite|postgres] [--runs 30]
import { fork, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import {
  onFailure,
  oneOf,
  pgAdmin,
  postgresServer,
  readArgs,
  requirePostgres,
  wholeNumber,
  wholeNumbers,
} from './bench-args.mjs';
import { startService } from './lib.mjs';

const name = 'bench/gateways.mjs';
const usage = `node bench/gateways.mjs [--count 100,1000] [--store sqlite|postgres] [--runs 30] [--health 200]
                         [--workers 2] [--setup-timeout-s 600]`;
const opts = readArgs(name, usage, {
  count: { type: 'string', default: '100,1000' },
  store: { type: 'string', default: 'sqlite' },
  runs: { type: 'string', default: '30' },
  health: { type: 'string', default: '200' },
  // Connecting N gateways that takes longer than this counts as a stall (the hub stopped keeping up).
  'setup-timeout-s': { type: 'string', default: '600' },
  // Fleet processes holding the simulated gateways.
  workers: { type: 'string', default: '2' },
});
const counts = wholeNumbers(name, opts, 'count');
const runs = wholeNumber(name, opts, 'runs');
const healthSamples = wholeNumber(name, opts, 'health');
const setupTimeoutMs = wholeNumber(name, opts, 'setup-timeout-s') * 1000;
const workers = wholeNumber(name, opts, 'workers');
oneOf(name, opts, 'store', ['sqlite', 'postgres']);
if (opts.store === 'postgres') await requirePostgres(name);

const cli = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'gantry-gateways-'));
const env = { ...process.env, GANTRY_HOME: home, GANTRY_LOG_LEVEL: 'error' };
const children = [];
// A bench that crashes or is stopped leaves no hub, gateway, fleet, database or folder behind.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
onFailure(name, () => cleanup());
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const database = `gantry_bench_gateways_${process.pid}`;
const admin = (statement) => pgAdmin(statement);

function gantry(args) {
  const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

// Node flags for the hub process, e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

const service = (args, node = []) => startService(args, { env, node, track: (c) => children.push(c) });

const status = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8');
const rssMb = (pid) => Number(status(pid).match(/VmRSS:\s+(\d+) kB/)[1]) / 1024;
/** CPU seconds (user + system) the process has used so far. */
const cpuS = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const q = (values, p) =>
  values.length === 0
    ? NaN
    : [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];
const wallNs = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

if (opts.store === 'postgres') await admin(`CREATE DATABASE ${database}`);
const db = opts.store === 'postgres' ? `${postgresServer}/${database}` : join(home, 'hub.db');
const hub = await service(['hub', 'start', '--port', '0', '--json', '--db', db], nodeArgs);
gantry(['login', '--url', hub.url, '--token', hub.ownerToken]);
const headers = { authorization: `Bearer ${hub.ownerToken}`, 'content-type': 'application/json' };

const stamp = join(home, 'stamp.sh');
writeFileSync(stamp, '#!/bin/sh\ndate +%s%N\n');
chmodSync(stamp, 0o755);
const { key } = JSON.parse(gantry(['agents', 'create', 'stamp', '--json']));
gantry([
  'gateway',
  'connect',
  '--server-url',
  hub.url,
  '--provider',
  'generic',
  '--provider-bin',
  stamp,
  '--api-key',
  key,
]);
mkdirSync(join(home, 'work'), { recursive: true });
gantry(['gateway', 'bind', '--agent', 'stamp', '--workdir', join(home, 'work')]);
await service(['gateway', 'start', '--port', '0', '--json']);

/** Created -> the provider process printing its clock, in ms, through the real gateway. */
async function createdToStarted() {
  const t0 = wallNs();
  const res = await fetch(`${hub.url}/v1/assignments`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ agent: 'stamp', prompt: 'x' }),
  });
  const text = await res.text();
  if (!res.ok || !text)
    throw new Error(`POST /v1/assignments: HTTP ${res.status} ${text.slice(0, 200) || 'with an empty body'}`);
  const created = JSON.parse(text);
  const stream = await fetch(`${hub.url}/v1/assignments/${created.id}/events`, {
    headers: { ...headers, accept: 'text/event-stream' },
  });
  let final;
  const parser = createParser({
    onEvent: (message) => {
      if (message.event === 'end') final = JSON.parse(message.data);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of stream.body) parser.feed(decoder.decode(chunk, { stream: true }));
  if (final?.state !== 'succeeded') throw new Error(`stamp run ended ${final?.state}`);
  return Number(BigInt(final.result.output.trim()) - t0) / 1e6;
}

async function health() {
  const started = performance.now();
  const res = await fetch(`${hub.url}/v1/health`, { signal: AbortSignal.timeout(60_000) });
  await res.text();
  if (!res.ok) throw new Error(`health answered ${res.status}`);
  return performance.now() - started;
}

/** The hub as it is now: health, created -> started (alternating), RSS and CPU over the window. */
async function measure(gateways) {
  const healthMs = [];
  const startedMs = [];
  const cpu0 = cpuS(hub.pid);
  const t0 = performance.now();
  const every = Math.max(1, Math.floor(healthSamples / runs));
  const errors = [];
  // A request that fails is counted and reported, not measured.
  const sample = (into, take) =>
    take().then(
      (ms) => into.push(ms),
      (err) => errors.push(err.message),
    );
  for (let i = 0; healthMs.length < healthSamples || startedMs.length < runs; i++) {
    if (errors.length > 20) throw new Error(`too many failed requests: ${errors.slice(0, 3).join('; ')}`);
    if (healthMs.length < healthSamples) await sample(healthMs, health);
    if (i % every === 0 && startedMs.length < runs) await sample(startedMs, createdToStarted);
    await sleep(10);
  }
  if (errors.length)
    console.error(`${gateways} gateways: ${errors.length} failed requests, e.g. ${errors[0]}`);
  const seconds = (performance.now() - t0) / 1000;
  return {
    gateways,
    hubRssMb: +rssMb(hub.pid).toFixed(0),
    hubCpuPct: +((100 * (cpuS(hub.pid) - cpu0)) / seconds).toFixed(0),
    failedRequests: errors.length,
    healthP50Ms: +q(healthMs, 0.5).toFixed(2),
    healthP99Ms: +q(healthMs, 0.99).toFixed(2),
    startedP50Ms: +q(startedMs, 0.5).toFixed(2),
    startedP99Ms: +q(startedMs, 0.99).toFixed(2),
  };
}

// Warm up (JIT, caches), then the reference: only the real gateway connected.
for (let i = 0; i < 5; i++) await createdToStarted();
const rows = [await measure(0)];
const none = rows[0];
console.error(`0 gateways: ${JSON.stringify(none)}`);

// Several fleet processes, so the simulated side is not one event loop doing all the signing and
// heartbeats; together they keep under the hub's 64 pending WebSocket handshakes per address.
const fleetScript = fileURLToPath(new URL('gateway-fleet.mjs', import.meta.url));
const wsEach = String(Math.max(1, Math.floor(56 / workers)));
const fleet = Array.from({ length: workers }, (_, w) => {
  const child = fork(fleetScript, [hub.url, hub.ownerToken, '--worker', String(w), '--ws', wsEach], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return child;
});
const fleetMessage = (child, deadline) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), deadline - Date.now());
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message);
    });
  });
await Promise.all(fleet.map((child) => fleetMessage(child, Date.now() + 30_000)));
const fleetCpuS = () => fleet.reduce((sum, child) => sum + cpuS(child.pid), 0);
let connected = 0;
for (const count of counts) {
  const setupStart = Date.now();
  const setupCpu = { hub: cpuS(hub.pid), fleet: fleetCpuS() };
  const more = count - connected;
  const answers = fleet.map((child, w) => {
    child.send({ grow: Math.floor(more / workers) + (w < more % workers ? 1 : 0) });
    return fleetMessage(child, setupStart + setupTimeoutMs);
  });
  const replies = await Promise.all(answers);
  if (replies.some((r) => !r)) {
    rows.push({ gateways: count, stalled: `not all connected within ${opts['setup-timeout-s']} s` });
    console.error(`${count} gateways: stalled`);
    break;
  }
  const ready = { ready: 0, failures: 0 };
  for (const r of replies) {
    ready.ready += r.ready;
    ready.failures += r.failures;
  }
  const setupS = (Date.now() - setupStart) / 1000;
  const setupHubCpuS = cpuS(hub.pid) - setupCpu.hub;
  console.error(
    `${count} gateways: ${more} connected in ${setupS.toFixed(1)} s (${(more / setupS).toFixed(0)}/s), ` +
      `CPU s hub ${setupHubCpuS.toFixed(1)}, fleet ${(fleetCpuS() - setupCpu.fleet).toFixed(1)}`,
  );
  connected = count;
  // Let heartbeats reach their steady rate (spread over one interval), then the hub's CPU with
  // nothing but N idle gateways, before measuring.
  await sleep(11_000);
  const idle0 = cpuS(hub.pid);
  await sleep(5_000);
  const idleCpuPct = +((100 * (cpuS(hub.pid) - idle0)) / 5).toFixed(0);
  const measured = await Promise.race([measure(ready.ready), sleep(setupTimeoutMs).then(() => undefined)]);
  if (!measured) {
    rows.push({ gateways: count, stalled: `measuring took over ${opts['setup-timeout-s']} s` });
    console.error(`${count} gateways: stalled`);
    break;
  }
  const row = {
    ...measured,
    idleCpuPct,
    setupS: +setupS.toFixed(0),
    connectsPerS: +(more / setupS).toFixed(0),
    hubCpuMsPerConnect: +((1000 * setupHubCpuS) / more).toFixed(1),
    failures: ready.failures,
  };
  rows.push(row);
  console.error(`${count} gateways: ${JSON.stringify(row)}`);
}

const header = [
  'gateways',
  'hub RSS MB',
  'idle CPU %',
  'hub CPU %',
  'health p50',
  'health p99',
  'started p50',
  'started p99',
  'x none',
  'connect/s',
  'CPU ms/conn',
];
console.log(
  `gateways, store: ${opts.store}, ${runs} created -> started and ${healthSamples} /v1/health each (ms); ` +
    `idle CPU: the hub with only N idle gateways; connect/s and hub CPU ms per connect: agent, register, exchange, hello`,
);
console.log(header.map((h) => h.padStart(11)).join(' '));
for (const r of rows) {
  if (r.stalled) {
    console.log(`${String(r.gateways).padStart(11)} ${r.stalled}`);
    continue;
  }
  const ratio = +(r.startedP50Ms / none.startedP50Ms).toFixed(2);
  r.startedVsNone = ratio;
  const cells = [
    r.gateways,
    r.hubRssMb,
    r.idleCpuPct ?? '-',
    r.hubCpuPct,
    r.healthP50Ms,
    r.healthP99Ms,
    r.startedP50Ms,
    r.startedP99Ms,
    ratio,
    r.connectsPerS ?? '-',
    r.hubCpuMsPerConnect ?? '-',
  ];
  console.log(cells.map((c) => String(c).padStart(11)).join(' '));
}
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const out = new URL(`results/gateways-${opts.store}.json`, import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, store: opts.store, runs, healthSamples, rows }, null, 2)}\n`,
);
console.log(`wrote ${fileURLToPath(out)}`);

for (const child of fleet) child.send({ stop: true });
await cleanup();
process.exit(0);

/** Stops every process it started (SIGTERM, then SIGKILL after 30 s), drops its database, removes its folder. */
async function cleanup() {
  // A hub closing thousands of sockets (and writing a --cpu-prof) may take a few seconds.
  const exited = (child) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => child.once('exit', resolve));
  for (const child of [...children].reverse()) child.kill('SIGTERM');
  await Promise.race([Promise.all(children.map(exited)), sleep(30_000)]);
  for (const child of children) child.kill('SIGKILL');
  if (opts.store === 'postgres')
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
}
