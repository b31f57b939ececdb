// Chaos in the repository (issue 15): real hubs and gateways as separate processes, assignments flowing
// across several agents, and meanwhile random `kill -9`s of hubs and gateways (started again as a service
// manager would), SIGSTOPs longer than lease + grace, and a few cancels by a person. Then it checks that
// every assignment ended, no attempt ran twice, every succeeded run has all its events in order and its
// result, only a person's cancel gave `cancelled`, and no process is left (see chaos/checks.mjs).
// Prints a summary, writes bench/results/chaos-<store>.json, exits 1 listing the violations if any.
// Usage: npm run chaos -- [--hubs 2 --store postgres --assignments 300 --faults 60 ...] (--help)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onFailure, pgAdmin, postgresServer, requirePostgres } from './bench-args.mjs';
import { check } from './chaos/checks.mjs';
import { cli, gantry, HubApi, Service } from './chaos/cluster.mjs';
import { strike } from './chaos/faults.mjs';
import { readOptions } from './chaos/options.mjs';
import { makePlan, PlanClock, promptOf } from './chaos/plan.mjs';
import { printSummary, summarize } from './chaos/report.mjs';
import { RunWatcher, writeProviderScript } from './chaos/runs.mjs';

const options = readOptions(process.argv.slice(2));
const pgServer = postgresServer;
if (options.store === 'postgres') await requirePostgres('chaos', pgServer);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const terminal = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'expired']);
const timing = { leaseMs: options.leaseMs, graceMs: options.leaseMs / 2, heartbeatMs: options.leaseMs / 4 };
const plan = makePlan(options);
const root = mkdtempSync(join(tmpdir(), 'gantry-chaos-'));
const logs = join(root, 'logs');
mkdirSync(logs);
const runLog = join(root, 'runs.log');
const out =
  options.out ??
  fileURLToPath(
    new URL(
      `results/chaos-${options.store}${options.hubs > 1 ? `-${options.hubs}hubs` : ''}.json`,
      import.meta.url,
    ),
  );
const log = (line) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
const t0 = Date.now();

// PostgreSQL: a fresh database for this run, dropped at the end.
const dbName = `gantry_chaos_${process.pid}_${options.seed}`;
if (options.store === 'postgres') await pgAdmin(`CREATE DATABASE ${dbName}`);

const hubArgs = (i) => [
  'hub',
  'start',
  '--json',
  '--data-dir',
  join(root, `hub${i}`, 'data'),
  ...(options.store === 'postgres' ? ['--db', `${pgServer}/${dbName}`] : []),
  '--lease-ms',
  String(timing.leaseMs),
  '--heartbeat-ms',
  String(timing.heartbeatMs),
  '--grace-ms',
  String(timing.graceMs),
];
const hubs = Array.from(
  { length: options.hubs },
  (_, i) =>
    new Service({ name: `hub${i}`, kind: 'hub', home: join(root, `hub${i}`), args: [], logDir: logs }),
);
const gateways = Array.from(
  { length: options.gateways },
  (_, i) =>
    new Service({
      name: `gw${i}`,
      kind: 'gateway',
      home: join(root, `gw${i}`),
      args: ['gateway', 'start', '--port', '0', '--json', '--concurrency', String(options.concurrency)],
      env: { GANTRY_STOP_GRACE_MS: '300' },
      logDir: logs,
    }),
);
const cluster = { hubs, gateways };
const watcher = new RunWatcher({ runLog, gateways, settleMs: timing.leaseMs });

// A failure anywhere (also in a callback) or Ctrl+C: one line, then the same clean-up.
onFailure('chaos', () => cleanup());
let exitCode = 1;
try {
  exitCode = await run();
} catch (err) {
  console.error(`chaos: ${(process.env.BENCH_DEBUG && err.stack) || err.message || err}`);
} finally {
  await cleanup();
}
process.exit(exitCode);

/** Kills every hub and gateway left, drops the database and removes the folder (unless --keep). */
async function cleanup() {
  for (const s of [...gateways, ...hubs]) if (s.child && s.child.exitCode === null) s.child.kill('SIGKILL');
  if (options.store === 'postgres' && !options.keep)
    await pgAdmin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`, pgServer).catch((err) =>
      console.error(`chaos: ${err.message}`),
    );
  if (options.keep)
    console.log(`kept ${root}${options.store === 'postgres' ? ` and database ${dbName}` : ''}`);
  else rmSync(root, { recursive: true, force: true });
}

async function run() {
  // Hubs: the first on port 0, then every one restarts on its own port.
  for (const [i, hub] of hubs.entries()) {
    const ready = await hub.start([...hubArgs(i), '--port', '0']);
    hub.args = [...hubArgs(i), '--port', new URL(ready.url).port];
  }
  const token = hubs[0].ready.ownerToken;
  const api = new HubApi(hubs, token);
  const urls = hubs.map((h) => h.ready.url);
  log(`hubs up: ${urls.join(', ')} (${options.store}); root ${root}`);

  const agents = [];
  for (let i = 0; i < options.agents; i++)
    agents.push(await api.request('POST', '/v1/agents', { name: `chaos-${i}` }));
  await Promise.all(
    gateways.map(async (gw, i) => {
      const script = writeProviderScript(root, gw.name, runLog);
      const hubUrl = options.gatewayUrls === 'all' ? urls.join(',') : urls[i % urls.length];
      for (const agent of agents) {
        const connect = [
          'gateway',
          'connect',
          '--server-url',
          hubUrl,
          '--provider',
          'generic',
          '--provider-bin',
          script,
          '--json',
        ];
        const answer = JSON.parse(await gantry(gw.home, connect, { GANTRY_API_KEY: agent.key }));
        if (answer.trust?.status === 'pending')
          await api.request('POST', `/v1/approvals/${answer.trust.approvalId}/approve`, {});
      }
      await gw.start();
    }),
  );
  log(`${gateways.length} gateways up, each serving ${agents.length} agents`);

  watcher.start();
  const started = Date.now();
  const created = new Map(); // plan number -> assignment id
  const cancelRequested = new Set();
  // Faults always heal, so a request waits for a hub as long as it takes.
  const patient = { untilMs: 600_000 };
  const clock = new PlanClock();
  for (const a of plan.assignments)
    clock.at(a.atMs, async () => {
      const body = { agent: a.agent, prompt: promptOf(a), retries: options.retries };
      const once = { ...patient, headers: { 'idempotency-key': `chaos-${options.seed}-${a.n}` } };
      created.set(a.n, (await api.request('POST', '/v1/assignments', body, once)).id);
    });
  const faults = [];
  for (const f of plan.faults)
    clock.at(
      f.atMs,
      async () => {
        const done = await strike(f, cluster, timing, started);
        faults.push(done);
        log(`fault ${done.kind} ${done.target ?? ''} (${done.outMs} ms)`);
      },
      { fault: true },
    );
  for (const c of plan.cancels)
    clock.at(c.atMs, async () => {
      while (!created.has(c.n)) await sleep(100);
      const id = created.get(c.n);
      cancelRequested.add(id); // before asking: a hub may act on it and die before it answers
      await api.request('POST', `/v1/assignments/${id}/cancel`, {}, patient).catch((err) => {
        if (!err.status) throw err;
        log(`cancel ${id}: ${err.message}`); // e.g. it had ended already
      });
    });
  await clock.run();
  log(`all ${plan.assignments.length} assignments created, ${faults.length} faults struck and healed`);

  // Every assignment must end. A loaded machine may still be working through a backlog, so the run
  // waits as long as assignments keep ending; one that has not ended after no assignment ended for
  // 10 leases and graces (at least 60 s) is stuck.
  const stuckMs = Math.max(60_000, 10 * (timing.leaseMs + timing.graceMs));
  let all = [];
  let ended = -1;
  let progressAt = Date.now();
  for (;;) {
    all = await api.request('GET', '/v1/assignments?limit=1000', undefined, patient);
    const now = all.filter((a) => terminal.has(a.state)).length;
    if (now > ended) [ended, progressAt] = [now, Date.now()];
    if (now === all.length || Date.now() - progressAt > stuckMs) break;
    await sleep(500);
  }
  log(`assignments ended: ${all.filter((a) => terminal.has(a.state)).length}/${all.length}`);

  // Stale runs get a lease, a grace and a moment more to be stopped by their gateways.
  const settleUntil = Date.now() + timing.leaseMs + timing.graceMs + 3000;
  while (watcher.live.size > 0 && Date.now() < settleUntil) await sleep(100);
  watcher.tick();
  const stale = [...watcher.live].map((r) => ({ assignment: r.assignment, attempt: r.attempt, pid: r.pid }));
  for (const a of all)
    a.events = await api.request('GET', `/v1/assignments/${a.id}/events`, undefined, patient);
  const ranMs = Date.now() - started;

  const exits = [];
  for (const s of [...gateways, ...hubs]) {
    const how = await s.terminate();
    exits.push({
      name: s.name,
      clean: how !== undefined,
      detail: how ? JSON.stringify(how) : 'killed after 15 s',
    });
  }
  await sleep(500);
  watcher.stop();
  const left = watcher.leftovers(
    root,
    [...gateways, ...hubs].flatMap((s) => s.pids),
    cli,
  );
  const overlaps = [...watcher.overlaps.values()];
  const violations = check({
    assignments: all,
    runs: watcher.runs,
    overlaps,
    cancelRequested,
    stale,
    left,
    exits,
    overlapGraceMs: timing.leaseMs,
  });
  const summary = summarize({
    options,
    plan,
    timing,
    ranMs,
    faults,
    cancelRequested,
    assignments: all,
    runs: watcher.runs,
    overlaps,
    violations,
  });
  printSummary(summary, out);
  return violations.length === 0 ? 0 : 1;
}
