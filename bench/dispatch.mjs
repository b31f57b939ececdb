// Dispatch and event throughput of Gantry beside what a team would hand-roll, in one run, on one store:
//   enqueue -> started: Gantry (POST /v1/assignments until the provider process prints its clock),
//                       spawning the same script directly, BullMQ (local Redis) and pg-boss (local
//                       PostgreSQL) from `add`/`send` until the worker's handler runs
//   jobs/s:             N trivial jobs enqueued at once until all are done: Gantry (echo agent,
//                       gateway --concurrency 16), BullMQ (worker concurrency 16), pg-boss
//   events/s:           `seq 1 N` through gateway, outbox, hub (persisted) until the client sees the
//                       end, against raw batched inserts of the same rows into the same kind of store
//   CPU:                the hub's and the gateway's CPU time (user + system, from /proc) per job and
//                       per event (and per event the run's supervisor with its provider, and the
//                       bench's own follower: all share the cores): what the figures above cost,
//                       which a loaded machine hardly changes
// Prints a table and writes bench/results/dispatch-<store>.json.
// Usage: node bench/dispatch.mjs [--store sqlite|postgres] [--runs 100] [--jobs 1000 (at most)] [--lines 200000]
//        [--pause-ms 0]: a pause before each created -> started run (the gateway's spare supervisor,
//        started behind the last run, is ready again after Node's start-up; back to back it may not be)
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import pg from 'pg';
import PgBoss from 'pg-boss';
import {
  oneOf,
  onFailure,
  pgAdmin,
  postgresServer,
  readArgs,
  requirePostgres,
  wholeNumber,
} from './bench-args.mjs';
import { benchHome, direct, hubClient, quantile as q, sleep, wallNs, writeResults } from './lib.mjs';

const name = 'bench/dispatch.mjs';
const usage =
  'node bench/dispatch.mjs [--store sqlite|postgres] [--runs 100] [--jobs 1000] [--lines 200000] [--pause-ms 0]';
const opts = readArgs(name, usage, {
  store: { type: 'string', default: 'sqlite' },
  runs: { type: 'string', default: '100' },
  jobs: { type: 'string', default: '1000' },
  lines: { type: 'string', default: '200000' },
  'pause-ms': { type: 'string', default: '0' },
});
oneOf(name, opts, 'store', ['sqlite', 'postgres']);
const runs = wholeNumber(name, opts, 'runs');
const jobs = wholeNumber(name, opts, 'jobs');
const lines = wholeNumber(name, opts, 'lines');
const pauseMs = wholeNumber(name, opts, 'pause-ms', 0);
// pg-boss needs PostgreSQL whatever the store.
await requirePostgres(name);
// A bench that crashes or is stopped leaves no hub, gateway, database or folder behind.
const { home, children, gantry, service, script } = benchHome('gantry-dispatch-', {
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'error',
});
const databases = [];
const admin = (statement) => pgAdmin(statement);
onFailure(name, async () => {
  for (const child of children) child.kill('SIGTERM');
  await sleep(1000);
  for (const database of databases)
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

async function freshDatabase(label) {
  const database = `gantry_bench_${label}_${process.pid}`;
  await admin(`CREATE DATABASE ${database}`);
  databases.push(database);
  return `${postgresServer}/${database}`;
}

// ---- Gantry --------------------------------------------------------------------------------------

const db = opts.store === 'postgres' ? await freshDatabase('hub') : join(home, 'hub.db');
const hub = await service(['hub', 'start', '--port', '0', '--json', '--db', db]);
gantry(['login', '--url', hub.url, '--token', hub.ownerToken]);
const { create, follow, followSeq } = hubClient(hub.url, hub.ownerToken);
const stamp = script('stamp.sh', 'date +%s%N');
const flood = script('flood.sh', `exec seq 1 ${lines}`);
const agents = { stamp: ['generic', stamp], echo: ['echo'], jobs: ['echo'], flood: ['generic', flood] };
for (const [agent, [provider, bin]] of Object.entries(agents)) {
  const { key } = JSON.parse(gantry(['agents', 'create', agent, '--json']));
  const args = ['gateway', 'connect', '--server-url', hub.url, '--provider', provider, '--api-key', key];
  gantry(bin ? [...args, '--provider-bin', bin] : args);
  mkdirSync(join(home, 'work', agent), { recursive: true });
  const parallel = agent === 'jobs' ? ['--parallel'] : [];
  gantry(['gateway', 'bind', '--agent', agent, '--workdir', join(home, 'work', agent), ...parallel]);
}
await service(['gateway', 'start', '--port', '0', '--concurrency', '16', '--json']);

const progress = (what) => process.stderr.write(`${name}: ${what}\n`);
const [hubProcess, gatewayProcess] = children;
/**
 * CPU time (ms, user + system) a process has used so far (Linux /proc; clock ticks of 10 ms), or
 * with `reaped` that of its children that ended and were waited for: for the gateway, the run
 * supervisors it spawns, and theirs (the provider process).
 */
function cpuMs(child, reaped = false) {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return reaped
    ? (Number(fields[13]) + Number(fields[14])) * 10
    : (Number(fields[11]) + Number(fields[12])) * 10;
}
/** This process's CPU ms (the bench's own follower of the event stream). */
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
/** Runs `fn`; returns its value and the hub's and gateway's CPU ms over it. */
async function withCpu(fn) {
  const hub0 = cpuMs(hubProcess);
  const gateway0 = cpuMs(gatewayProcess);
  const value = await fn();
  return { value, hubMs: cpuMs(hubProcess) - hub0, gatewayMs: cpuMs(gatewayProcess) - gateway0 };
}
progress('hub and gateway up');
const latency = { gantry: [], direct: [], bullmq: [], pgboss: [] };
for (let i = 0; i < runs + 5; i++) {
  const keep = i >= 5;
  await sleep(pauseMs);
  let t0 = wallNs();
  const created = await create('stamp');
  const final = await follow(created.id);
  if (keep) latency.gantry.push(Number(BigInt(final.result.output.trim()) - t0) / 1e6);
  t0 = wallNs();
  const printed = await direct(stamp);
  if (keep) latency.direct.push(Number(BigInt(printed) - t0) / 1e6);
}

/**
 * N echo assignments created at once (16 requests in flight) until every one has succeeded: each
 * one's event stream is followed in turn (it ends at once for one already done). Polling the
 * whole list every few milliseconds instead made the hub render up to N assignments each time,
 * and that, not dispatch, was what the figure measured.
 */
async function gantryJobs(agent, n) {
  const t = performance.now();
  const ids = [];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (ids.length < n) {
        ids.push(null);
        const slot = ids.length - 1;
        ids[slot] = (await create(agent)).id;
      }
    }),
  );
  for (const id of ids) {
    const final = await follow(id);
    if (final?.state !== 'succeeded') throw new Error(`job ${id} ended ${final?.state}`);
  }
  return n / ((performance.now() - t) / 1000);
}
progress('created -> started done');
await gantryJobs('echo', 50); // warm-up
const jobsRun = await withCpu(() => gantryJobs('jobs', Math.min(jobs, 1000)));
const gantryJobsPerS = jobsRun.value;
const jobCpu = {
  hubMsPerJob: +(jobsRun.hubMs / Math.min(jobs, 1000)).toFixed(2),
  gatewayMsPerJob: +(jobsRun.gatewayMs / Math.min(jobs, 1000)).toFixed(2),
};

progress('jobs/s done');
// Events: every line must arrive once, in order; then the same rows into the same kind of store.
const eventRates = [];
const eventCpu = { hubMs: 0, gatewayMs: 0, supervisorMs: 0, followerMs: 0 };
for (let i = 0; i < 3; i++) {
  const hub0 = cpuMs(hubProcess);
  const gateway0 = cpuMs(gatewayProcess);
  const supervisor0 = cpuMs(gatewayProcess, true);
  const follower0 = ownCpuMs();
  const t = performance.now();
  const created = await create('flood');
  // Every line once and in order (each event's seq and text checked as it comes).
  const { final, count, ordered } = await followSeq(created.id);
  if (final?.state !== 'succeeded' || count !== lines || !ordered)
    throw new Error(`lost or reordered: ${count}/${lines}${ordered ? '' : ', out of order'}`);
  eventRates.push(lines / ((performance.now() - t) / 1000));
  eventCpu.followerMs += ownCpuMs() - follower0;
  // The supervisor is reaped a moment after the run's result reached the hub.
  for (let k = 0; k < 50 && cpuMs(gatewayProcess, true) === supervisor0; k++) await sleep(20);
  eventCpu.hubMs += cpuMs(hubProcess) - hub0;
  eventCpu.gatewayMs += cpuMs(gatewayProcess) - gateway0;
  eventCpu.supervisorMs += cpuMs(gatewayProcess, true) - supervisor0;
}

const batch = 1000; // the gateway's largest events frame
const rowsOf = (assignmentId) =>
  Array.from({ length: lines }, (_, k) => [
    assignmentId,
    1,
    k + 1,
    'output',
    new Date().toISOString(),
    JSON.stringify({ text: String(k + 1) }),
  ]);
async function rawInserts() {
  const rows = rowsOf(`asg_raw_${Math.random()}`);
  if (opts.store === 'sqlite') {
    const raw = new Database(join(home, `raw-${Math.random()}.db`));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec(
      'create table assignment_events (assignment_id text not null, attempt integer not null, seq integer not null, type text not null, ts text not null, data text not null, primary key (assignment_id, attempt, seq))',
    );
    const insert = raw.prepare(
      'insert into assignment_events values (?, ?, ?, ?, ?, ?) on conflict do nothing',
    );
    const many = raw.transaction((chunk) => {
      for (const r of chunk) insert.run(...r);
    });
    const t = performance.now();
    for (let k = 0; k < rows.length; k += batch) many(rows.slice(k, k + batch));
    const rate = lines / ((performance.now() - t) / 1000);
    raw.close();
    return rate;
  }
  const client = new pg.Client({ connectionString: rawDb });
  await client.connect();
  await client.query(
    'create table if not exists assignment_events (assignment_id text not null, attempt integer not null, seq integer not null, type text not null, ts text not null, data text not null, primary key (assignment_id, attempt, seq))',
  );
  const t = performance.now();
  for (let k = 0; k < rows.length; k += batch) {
    const chunk = rows.slice(k, k + batch);
    const params = chunk.flat();
    const values = chunk.map(
      (_, j) => `($${j * 6 + 1}, $${j * 6 + 2}, $${j * 6 + 3}, $${j * 6 + 4}, $${j * 6 + 5}, $${j * 6 + 6})`,
    );
    await client.query(
      `insert into assignment_events values ${values.join(', ')} on conflict do nothing`,
      params,
    );
  }
  const rate = lines / ((performance.now() - t) / 1000);
  await client.end();
  return rate;
}
const rawDb = opts.store === 'postgres' ? await freshDatabase('raw') : undefined;
const rawRates = [];
for (let i = 0; i < 3; i++) rawRates.push(await rawInserts());

// ---- BullMQ on the local Redis ---------------------------------------------------------------------

// BullMQ under ESM takes a client, not options; workers block on Redis and need no retry cap.
const connection = new IORedis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null });
const prefix = `gantry-bench-${process.pid}`;
async function bullmq() {
  const queue = new Queue('lat', { connection, prefix });
  let started;
  const worker = new Worker('lat', async () => started?.(performance.now()), {
    connection,
    prefix,
    concurrency: 1,
  });
  await worker.waitUntilReady();
  const samples = [];
  for (let i = 0; i < runs + 5; i++) {
    const ran = new Promise((resolve) => (started = resolve));
    const t = performance.now();
    await queue.add('j', { i }, { removeOnComplete: true });
    const at = await ran;
    if (i >= 5) samples.push(at - t);
  }
  await worker.close();
  const tq = new Queue('tput', { connection, prefix });
  let done = 0;
  let all;
  const finished = new Promise((resolve) => (all = resolve));
  const tw = new Worker(
    'tput',
    async () => {
      if (++done === jobs) all();
    },
    { connection, prefix, concurrency: 16 },
  );
  await tw.waitUntilReady();
  const t = performance.now();
  for (let k = 0; k < jobs; k += 100) {
    await tq.addBulk(
      Array.from({ length: Math.min(100, jobs - k) }, (_, j) => ({
        name: 'j',
        data: { j: k + j },
        opts: { removeOnComplete: true },
      })),
    );
  }
  await finished;
  const perS = jobs / ((performance.now() - t) / 1000);
  await tw.close();
  for (const qu of [queue, tq]) {
    await qu.obliterate({ force: true });
    await qu.close();
  }
  connection.disconnect();
  return { samples, perS };
}
progress('events done');
const bull = await bullmq();
progress('BullMQ done');

// ---- pg-boss on the local PostgreSQL ---------------------------------------------------------------

async function pgboss() {
  const boss = new PgBoss({ connectionString: await freshDatabase('pgboss') });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('lat');
  await boss.createQueue('tput');
  let started;
  // pg-boss polls; 0.5 s is the shortest interval it accepts.
  await boss.work('lat', { pollingIntervalSeconds: 0.5 }, async () => started?.(performance.now()));
  const samples = [];
  for (let i = 0; i < Math.min(runs, 40) + 2; i++) {
    const ran = new Promise((resolve) => (started = resolve));
    const t = performance.now();
    await boss.send('lat', { i });
    const at = await ran;
    if (i >= 2) samples.push(at - t);
  }
  let done = 0;
  let all;
  const finished = new Promise((resolve) => (all = resolve));
  const t = performance.now();
  for (let k = 0; k < jobs; k += 100)
    await boss.insert(
      Array.from({ length: Math.min(100, jobs - k) }, (_, j) => ({ name: 'tput', data: { j: k + j } })),
    );
  await boss.work('tput', { pollingIntervalSeconds: 0.5, batchSize: 16 }, async (batchOf) => {
    done += batchOf.length;
    if (done >= jobs) all();
  });
  await finished;
  const perS = jobs / ((performance.now() - t) / 1000);
  await boss.stop({ graceful: false, wait: true });
  return { samples, perS };
}
const boss = await pgboss();

// ---- the table -------------------------------------------------------------------------------------

const row = (name, samples, perS) => ({
  name,
  p50Ms: +q(samples, 0.5).toFixed(2),
  p99Ms: +q(samples, 0.99).toFixed(2),
  jobsPerS: perS === undefined ? null : Math.round(perS),
});
const rows = [
  row('Gantry', latency.gantry, gantryJobsPerS),
  row('spawn directly', latency.direct),
  row('BullMQ (Redis)', bull.samples, bull.perS),
  row('pg-boss (PostgreSQL)', boss.samples, boss.perS),
];
const events = {
  gantry: Math.round(q(eventRates, 0.5)),
  rawInserts: Math.round(q(rawRates, 0.5)),
  ratio: +(q(eventRates, 0.5) / q(rawRates, 0.5)).toFixed(2),
  hubUsPerEvent: +((eventCpu.hubMs * 1000) / (3 * lines)).toFixed(2),
  gatewayUsPerEvent: +((eventCpu.gatewayMs * 1000) / (3 * lines)).toFixed(2),
  supervisorUsPerEvent: +((eventCpu.supervisorMs * 1000) / (3 * lines)).toFixed(2),
  followerUsPerEvent: +((eventCpu.followerMs * 1000) / (3 * lines)).toFixed(2),
};
console.log(
  `dispatch, store: ${opts.store}; enqueue -> started over ${runs} runs ${pauseMs} ms apart (pg-boss ${Math.min(runs, 40)}), ${jobs} trivial jobs`,
);
console.log(
  ['who'.padEnd(22), 'p50 ms', 'p99 ms', 'x direct', 'jobs/s']
    .map((h, i) => (i ? h.padStart(9) : h))
    .join(' '),
);
for (const r of rows) {
  const ratio = +(r.p50Ms / rows[1].p50Ms).toFixed(2);
  r.vsDirect = ratio;
  console.log(
    [
      r.name.padEnd(22),
      ...[r.p50Ms, r.p99Ms, ratio, r.jobsPerS ?? '-'].map((v) => String(v).padStart(9)),
    ].join(' '),
  );
}
console.log(
  `events/s (${lines} lines, persisted, none lost): Gantry ${events.gantry}/s, raw batched inserts ${events.rawInserts}/s (x ${events.ratio}, median of 3)`,
);
console.log(
  `CPU: hub ${jobCpu.hubMsPerJob} ms, gateway ${jobCpu.gatewayMsPerJob} ms per trivial job; hub ${events.hubUsPerEvent} us, gateway ${events.gatewayUsPerEvent} us, run supervisor (with its provider) ${events.supervisorUsPerEvent} us, the bench's follower ${events.followerUsPerEvent} us per event`,
);
const out = writeResults(`dispatch-${opts.store}`, {
  date: new Date().toISOString(),
  node: process.version,
  store: opts.store,
  runs,
  pauseMs,
  jobs,
  lines,
  rows,
  events,
  jobCpu,
});
console.log(`wrote ${out}`);

for (const child of children.reverse()) child.kill('SIGTERM');
await sleep(1000);
for (const database of databases)
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
rmSync(home, { recursive: true, force: true });
process.exit(0);
