// How fast a restarted gateway takes back a run after `kill -9` (runs outlive the gateway, issue 14):
// an ACP run (the scripted ACP agent over stdin, held mid-turn after an allowed edit) and a generic
// run (a script that holds), side by side, alternately per round, through real hub and gateway
// processes. Each round: the run starts and holds; the daemon is killed with SIGKILL; the run is let
// go (it ends while no daemon runs, its output waiting in the spool); then `gateway start --detach`.
// Measured from that command to the first event after the kill reaching the hub (over SSE) and to
// the result. Prints a table and writes bench/results/takeback.json.
// Usage: node bench/takeback.mjs [rounds]
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchHome, hubClient, sleep, writeResults } from './lib.mjs';

const rounds = Number(process.argv[2] ?? 5);
const { home, gantry, service, script, stop } = benchHome('gantry-bench-takeback-', { kill: 'SIGTERM' });
const acpAgent = fileURLToPath(new URL('../test/fake-models/acp-agent.mjs', import.meta.url));

const hub = await service(['hub', 'start', '--port', '0', '--json']);
gantry(['login', '--url', hub.url, '--token', hub.ownerToken]);
const { create, follow } = hubClient(hub.url, hub.ownerToken);
const holding = script(
  'hold.sh',
  `echo begin\nwhile [ ! -f "$GANTRY_WORKDIR/go" ]; do sleep 0.05; done\necho 'GANTRY_EVENT {"type":"result","text":"done"}'`,
);
const kinds = {
  acp: {
    provider: ['acp', acpAgent, '--permission', 'allow'],
    prompt: 'edit hold',
    held: 'permission_decided',
  },
  generic: { provider: ['generic', holding], prompt: 'x', held: 'output' },
};
for (const [name, { provider }] of Object.entries(kinds)) {
  const { key } = JSON.parse(gantry(['agents', 'create', name, '--json']));
  const [kind, bin, ...rest] = provider;
  gantry([
    'gateway',
    'connect',
    '--server-url',
    hub.url,
    '--provider',
    kind,
    '--provider-bin',
    bin,
    '--api-key',
    key,
    ...rest,
  ]);
  mkdirSync(join(home, 'work', name), { recursive: true });
  gantry(['gateway', 'bind', '--agent', name, '--workdir', join(home, 'work', name)]);
}
const startDaemon = () => gantry(['gateway', 'start', '--detach', '--port', '0']);
const daemonPid = () => Number(readFileSync(join(home, 'data', 'gateway.pid'), 'utf8').trim());
startDaemon();

async function until(check, ms = 60_000) {
  for (const end = Date.now() + ms; !check(); await sleep(5))
    if (Date.now() > end) throw new Error('timed out');
}

async function round(name) {
  const { prompt, held } = kinds[name];
  const go = join(home, 'work', name, 'go');
  rmSync(go, { force: true });
  const seen = [];
  const created = await create(name, prompt);
  const final = follow(created.id, (data) => seen.push({ ...JSON.parse(data), at: performance.now() }));
  await until(() => seen.some((e) => e.type === held));
  await sleep(200); // what the run said before holding has reached the hub
  const before = Math.max(...seen.map((e) => e.seq));
  const pid = daemonPid();
  process.kill(pid, 'SIGKILL');
  await until(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  writeFileSync(go, '');
  const t0 = performance.now();
  startDaemon();
  const started = performance.now() - t0;
  await until(() => seen.some((e) => e.seq > before));
  const firstEvent = seen.find((e) => e.seq > before).at - t0;
  const done = await final;
  if (done.state !== 'succeeded' || done.attempt !== 1)
    throw new Error(`${name}: ${done.state} (attempt ${done.attempt})`);
  return { started, firstEvent, result: performance.now() - t0 };
}

const samples = { acp: [], generic: [] };
try {
  for (let i = 0; i <= rounds; i++) {
    for (const name of i % 2 ? ['acp', 'generic'] : ['generic', 'acp']) {
      const sample = await round(name);
      if (i > 0) samples[name].push(sample); // the first round warms up
    }
  }
} finally {
  gantry(['gateway', 'stop']);
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const rows = Object.entries(samples).map(([name, list]) => ({
  run: name,
  startMs: Math.round(median(list.map((s) => s.started))),
  firstEventMs: Math.round(median(list.map((s) => s.firstEvent))),
  resultMs: Math.round(median(list.map((s) => s.result))),
}));
console.log(`take-back after kill -9, ${rounds} rounds (median ms from \`gateway start --detach\`)`);
console.log('run       start cmd   first event   result');
for (const r of rows)
  console.log(
    `${r.run.padEnd(9)} ${String(r.startMs).padStart(9)} ${String(r.firstEventMs).padStart(13)} ${String(r.resultMs).padStart(8)}`,
  );
const [acp, generic] = rows;
const ratio = {
  firstEvent: acp.firstEventMs / generic.firstEventMs,
  result: acp.resultMs / generic.resultMs,
};
console.log(`acp / generic: first event ${ratio.firstEvent.toFixed(2)}x, result ${ratio.result.toFixed(2)}x`);
console.log(writeResults('takeback', { rounds, rows, ratio }));
if (existsSync(home)) await stop();
