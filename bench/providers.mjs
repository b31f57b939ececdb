// The gateway's overhead on a real provider run: the same trivial text turn ("say ok", a fake model
// answering one short line) run by the real Codex and Claude Code CLIs, each measured two ways,
// alternating per iteration so both see the same machine load:
//   direct: the CLI spawned as the gateway's provider spawns it (same argv, cwd, environment, own
//           process group, stdin closed), timed from spawn to exit
//   gantry: POST /v1/assignments to a real hub, run by a real gateway, timed until this client sees
//           the terminal state over SSE
// The aim is gantry under 1.1x direct. Prints a table and writes bench/results/providers.json.
// Usage: node bench/providers.mjs [runs]   (the CLIs come from scripts/test-agents.mjs, installed once)
//
// The fake model servers, the gateway's environment allowlist and the providers' variable families
// are TypeScript, which Node 20 cannot import (it has no --experimental-strip-types). esbuild, already a devDependency, bundles them in
// memory and the bundle is imported from a data: URL: no file written, no loader to register.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createParser } from 'eventsource-parser';
import { installTestAgents } from '../scripts/test-agents.mjs';
import { startService } from './lib.mjs';

const runs = Number(process.argv[2] ?? 15);
const warmups = 2;
const aim = 1.1;
/** Longer than any healthy trivial run by far: a hung run fails the bench instead of hanging it. */
const runTimeoutMs = 60_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'gantry-bench-providers-'));
const home = join(base, 'home');
mkdirSync(home);

// Every child runs in its own process group, so a leftover grandchild dies with it.
const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
let stopping;
/**
 * Stops every child: SIGTERM first (the gateway then stops the provider runs it has, which live in
 * their own process groups), SIGKILL after 5 s.
 */
function stopChildren() {
  stopping ??= (async () => {
    const alive = [...children];
    const exits = alive.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of alive) killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => alive.forEach((child) => killGroup(child, 'SIGKILL')), 5000);
    await Promise.all(exits);
    clearTimeout(timer);
  })();
  return stopping;
}
// Ctrl+C stops the children the same way; the exit handler is the last resort (e.g. after an
// uncaught error): nothing left running, nothing left on disk.
process.once('SIGINT', () => void stopChildren().finally(() => process.exit(130)));
process.once('SIGTERM', () => void stopChildren().finally(() => process.exit(143)));
process.on('exit', () => {
  for (const child of children) killGroup(child, 'SIGKILL');
  rmSync(base, { recursive: true, force: true, maxRetries: 3 });
});

async function loadTypeScript() {
  const { outputFiles } = await build({
    stdin: {
      contents: `
        export { startOpenAiResponses, codexHomeFor } from './test/fake-models/openai-responses.ts';
        export { startAnthropicMessages, claudeEnvFor } from './test/fake-models/anthropic-messages.ts';
        export { allowlistedEnv } from './packages/gateway/src/providers/environment.ts';
        export { codexProvider } from './packages/gateway/src/providers/codex.ts';
        export { claudeCodeProvider } from './packages/gateway/src/providers/claude-code.ts';`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'error',
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`);
}

const ts = await loadTypeScript();
const bins = installTestAgents({ quiet: true });
const fakes = [];

/** What each provider needs: its fake, its environment, and how to read its answer from stdout. */
async function providerSetup() {
  const codexFake = await ts.startOpenAiResponses();
  const claudeFake = await ts.startAnthropicMessages();
  fakes.push(codexFake, claudeFake);
  return [
    {
      name: 'codex',
      agent: 'bench-codex',
      bin: bins.codex,
      binFlag: '--codex-bin',
      fake: codexFake,
      env: ts.codexHomeFor(codexFake, join(base, 'codex-home')),
      envFamilies: ts.codexProvider({ settings: {} }).envFamilies,
      args: (workdir, prompt) => [
        'exec',
        '--json',
        '--skip-git-repo-check',
        '-s',
        'workspace-write',
        '-C',
        workdir,
        '--',
        prompt,
      ],
      answer: (events) =>
        events.find((e) => e.type === 'item.completed' && e.item?.type === 'agent_message')?.item.text,
    },
    {
      name: 'claude-code',
      agent: 'bench-claude',
      bin: bins.claude,
      binFlag: '--claude-bin',
      fake: claudeFake,
      env: ts.claudeEnvFor(claudeFake, home),
      envFamilies: ts.claudeCodeProvider({ settings: {} }).envFamilies,
      args: (_workdir, prompt) => [
        '-p',
        '--output-format',
        'stream-json',
        '--verbose',
        '--include-partial-messages',
        '--',
        prompt,
      ],
      answer: (events) => {
        const result = events.find((e) => e.type === 'result');
        return result && !result.is_error ? result.result : undefined;
      },
    },
  ];
}

const providers = await providerSetup();
// The gantry processes get both providers' variables; the gateway passes each provider only its own
// families. Anything of the same names in this shell is left out, so both ways see only the fakes.
const inherited = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(GANTRY_|OPENAI_|CODEX_|ANTHROPIC_|CLAUDE_)/.test(name)),
);
const env = {
  ...inherited,
  ...Object.assign({}, ...providers.map((p) => p.env)),
  HOME: home,
  GANTRY_HOME: join(base, 'gantry'),
  GANTRY_LOG_LEVEL: 'error',
  // A stopped run gets 1 s per signal instead of 5: so an interrupted bench stops well within the
  // 5 s this script gives the gateway (no run is stopped while measuring).
  GANTRY_STOP_GRACE_MS: '1000',
};
for (const p of providers) {
  p.workdir = join(base, 'work', p.name);
  mkdirSync(p.workdir, { recursive: true });
  // What the gateway's provider gets (less the GANTRY_* variables it adds, which the CLIs ignore).
  p.directEnv = ts.allowlistedEnv(p.envFamilies, [], env);
}

function gantry(args) {
  const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Starts a long-running gantry command (with BENCH_NODE_ARGS, e.g. '--cpu-prof'); resolves with the
 * JSON line it prints once ready, and its pid.
 */
const service = (args) => startService(args, { env, track, detached: true });

/** CPU time (user + system) a process has used so far, from /proc; undefined where there is none. */
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [utime, stime] = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 13)
      .map(Number);
    return ((utime + stime) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

const nowNs = () => process.hrtime.bigint();
const round = (v) => +v.toFixed(1);
const mapValues = (object, f) => Object.fromEntries(Object.entries(object).map(([k, v]) => [k, f(v)]));
const msSince = (t) => Number(nowNs() - t) / 1e6;

/**
 * One run of the CLI as the gateway's provider runs it. Returns spawn -> exit, and when the first
 * output (either pipe) and the last stdout line came, to set against the events the gateway stamps.
 */
function direct(p, prompt) {
  return new Promise((resolve, reject) => {
    const t0 = nowNs();
    const child = track(
      spawn(p.bin, p.args(p.workdir, prompt), {
        cwd: p.workdir,
        env: p.directEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), runTimeoutMs);
    let stdout = '';
    let stderr = '';
    let firstMs;
    let lastMs;
    let exit;
    const seen = () => (firstMs ??= msSince(t0));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      seen();
      lastMs = msSince(t0);
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      seen();
    });
    child.once('error', reject);
    child.once('exit', (code) => (exit = { code, ms: msSince(t0) }));
    // The gateway also waits for the pipes to close (a grandchild may hold them): so does this.
    child.once('close', () => {
      clearTimeout(timer);
      if (exit?.code !== 0) return reject(new Error(`${p.name} exited ${exit?.code}: ${stderr.slice(-500)}`));
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      resolve({
        ms: exit.ms,
        output: p.answer(events),
        split: {
          toFirstOutput: firstMs,
          firstToLastOutput: lastMs - firstMs,
          lastOutputToExit: exit.ms - lastMs,
          exitToPipesClosed: msSince(t0) - exit.ms,
        },
      });
    });
  });
}

const hub = await service(['hub', 'start', '--port', '0', '--json']);
const headers = { authorization: `Bearer ${hub.ownerToken}`, 'content-type': 'application/json' };

/** One run through hub and gateway: POST, then follow SSE until the terminal state arrives. */
async function throughGantry(p, prompt) {
  const t0 = nowNs();
  const wall0 = Date.now();
  const signal = AbortSignal.timeout(runTimeoutMs);
  const res = await fetch(`${hub.url}/v1/assignments`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ agent: p.agent, prompt }),
    signal,
  });
  if (!res.ok) throw new Error(`POST /v1/assignments: ${res.status} ${await res.text()}`);
  const { id } = await res.json();
  const stream = await fetch(`${hub.url}/v1/assignments/${id}/events`, {
    headers: { ...headers, accept: 'text/event-stream' },
    signal,
  });
  let final;
  const events = [];
  const parser = createParser({
    onEvent: (message) => {
      if (message.event === 'event') events.push(JSON.parse(message.data));
      else if (message.event === 'end') final = JSON.parse(message.data);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of stream.body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (final) break;
  }
  const ms = msSince(t0);
  const wallEnd = Date.now();
  if (!final) throw new Error(`${p.name}: the event stream ended without a final state`);
  if (final.state !== 'succeeded')
    throw new Error(`${p.name} through gantry: ${final.state}: ${JSON.stringify(final.error)}`);
  // Where the time went, by the hub's clock and the gateway's event stamps (milliseconds; one
  // machine, one clock). The gateway's own notes are `status` events without a provider's `raw`.
  const output = events.filter((e) => !(e.type === 'status' && e.data.raw === undefined));
  if (output.length === 0) throw new Error(`${p.name} through gantry: no provider event`);
  const [created, started, finished, firstOutput, lastOutput] = [
    final.createdAt,
    final.startedAt,
    final.finishedAt,
    output[0].ts,
    output.at(-1).ts,
  ].map(Date.parse);
  return {
    ms,
    output: final.result?.output,
    split: {
      requestToStored: created - wall0,
      storedToStarting: started - created,
      startingToFirstOutput: firstOutput - started,
      firstToLastOutput: lastOutput - firstOutput,
      lastOutputToFinished: finished - lastOutput,
      finishedToClient: wallEnd - finished,
    },
  };
}

/** What the hub and the gateway spent on CPU per assignment (on 2 cores, taken from the CLI's share). */
const cpuPerAssignmentMs = {};
const samples = Object.fromEntries(
  providers.map((p) => [p.name, { direct: [], gantry: [], directSplit: [], gantrySplit: [] }]),
);

async function measure(i, p, way) {
  if (stopping) throw new Error('interrupted');
  // A reply unique to this run: the check below cannot pass on a stale or default answer.
  const expected = `ok ${p.name} ${way} ${i}`;
  p.fake.script([{ kind: 'text', text: expected }]);
  const run = way === 'direct' ? await direct(p, 'say ok') : await throughGantry(p, 'say ok');
  if (run.output?.trim() !== expected)
    throw new Error(`${p.name} ${way}: expected output '${expected}', got ${JSON.stringify(run.output)}`);
  if (i < warmups) return; // the first runs warm the file cache, the JIT and the CLIs' own caches
  samples[p.name][way].push(run.ms);
  samples[p.name][`${way}Split`].push(run.split);
}

try {
  gantry(['login', '--url', hub.url, '--token', hub.ownerToken]);
  // One gateway serves both agents (`gateway run` takes one), each bound to its provider and workdir.
  for (const p of providers) {
    const { key } = JSON.parse(gantry(['agents', 'create', p.agent, '--json']));
    const connect = ['gateway', 'connect', '--server-url', hub.url, '--provider', p.name, '--api-key', key];
    gantry([...connect, p.binFlag, p.bin]);
  }
  for (const p of providers) {
    gantry(['gateway', 'bind', '--agent', p.agent, '--workdir', p.workdir, p.binFlag, p.bin]);
  }
  const gateway = await service(['gateway', 'start', '--port', '0', '--json']);
  if (!gateway.connected) throw new Error('the gateway did not connect to the hub');

  const services = { hub: hub.pid, gateway: gateway.pid };
  let cpuBefore;
  for (let i = 0; i < warmups + runs; i++) {
    if (i === warmups) cpuBefore = mapValues(services, cpuMs);
    for (const p of providers) {
      // Alternate which way goes first, so neither always runs right after the other provider.
      const ways = i % 2 === 0 ? ['direct', 'gantry'] : ['gantry', 'direct'];
      for (const way of ways) await measure(i, p, way);
    }
  }
  const cpuAfter = mapValues(services, cpuMs);
  for (const name of Object.keys(services)) {
    const used = cpuAfter[name] - cpuBefore[name];
    if (!Number.isNaN(used)) cpuPerAssignmentMs[name] = round(used / (runs * providers.length));
  }
} finally {
  await stopChildren();
  await Promise.all(fakes.map((fake) => fake.close()));
}

const quantile = (values, q) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
const median = (values) => quantile(values, 0.5);
const medians = (splits) =>
  Object.fromEntries(Object.keys(splits[0]).map((k) => [k, round(median(splits.map((x) => x[k])))]));
const rows = providers.map((p) => {
  const s = samples[p.name];
  const [d50, g50] = [median(s.direct), median(s.gantry)];
  return {
    provider: p.name,
    directMedianMs: round(d50),
    directP90Ms: round(quantile(s.direct, 0.9)),
    gantryMedianMs: round(g50),
    gantryP90Ms: round(quantile(s.gantry, 0.9)),
    ratio: +(g50 / d50).toFixed(2),
    aim,
    overheadMs: round(g50 - d50),
    // The same iteration's two runs saw the same load: their difference is steadier than the medians'.
    pairedOverheadMedianMs: round(median(s.gantry.map((g, i) => g - s.direct[i]))),
    directSplitMedianMs: medians(s.directSplit),
    gantrySplitMedianMs: medians(s.gantrySplit),
    samplesMs: { direct: s.direct.map(round), gantry: s.gantry.map(round) },
  };
});

const versions = Object.fromEntries(
  providers.map((p) => {
    const result = spawnSync(p.bin, ['--version'], {
      env: p.directEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return [p.name, result.stdout.trim().split('\n')[0]];
  }),
);

console.log(`providers, ${runs} runs each (alternating, after ${warmups} warm-up runs), a trivial text turn`);
const columns = [
  'direct p50',
  'direct p90',
  'gantry p50',
  'gantry p90',
  'x direct',
  '(aim)',
  'overhead ms',
  'paired ms',
];
console.log(['provider'.padEnd(12), ...columns.map((c) => c.padStart(11))].join('  '));
for (const r of rows) {
  const values = [
    r.directMedianMs,
    r.directP90Ms,
    r.gantryMedianMs,
    r.gantryP90Ms,
    r.ratio,
    `< ${aim}`,
    r.overheadMs,
    r.pairedOverheadMedianMs,
  ];
  console.log([r.provider.padEnd(12), ...values.map((v) => String(v).padStart(11))].join('  '));
}
if (cpuPerAssignmentMs.hub !== undefined) {
  const { hub: hubCpu, gateway: gatewayCpu } = cpuPerAssignmentMs;
  console.log(
    `CPU per assignment, measured runs: hub ${hubCpu} ms, gateway ${gatewayCpu} ms (/proc, 1/${clockTicks} s ticks)`,
  );
}
console.log('p50 by part (ms; hub clock and gateway event stamps, millisecond resolution):');
for (const r of rows) {
  const [g, d] = [r.gantrySplitMedianMs, r.directSplitMedianMs];
  console.log(
    `  ${r.provider} gantry: request -> stored ${g.requestToStored}, -> 'starting' ${g.storedToStarting}, -> first output ${g.startingToFirstOutput}, -> last output ${g.firstToLastOutput}, -> finished ${g.lastOutputToFinished}, -> client ${g.finishedToClient}`,
  );
  console.log(
    `  ${r.provider} direct: spawn -> first output ${d.toFirstOutput}, -> last output ${d.firstToLastOutput}, -> exit ${d.lastOutputToExit}, -> pipes closed ${d.exitToPipesClosed}`,
  );
}
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const out = new URL('results/providers.json', import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, versions, runs, warmups, rows, cpuPerAssignmentMs }, null, 2)}\n`,
);
console.log(`wrote ${fileURLToPath(out)}`);
