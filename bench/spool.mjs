// What spooling a run costs (runs outlive the gateway, issue 14): the same generic-provider run — a
// script printing N lines — read by the gateway straight from the provider's pipes (local runs, and
// every run before) and through its supervisor and spool file (every hub run now), alternately per
// round so both see the same machine load. Times are from the provider's start to its outcome.
// Prints a table and writes bench/results/spool.json. Usage: node bench/spool.mjs [rounds] [lines]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const rounds = Number(process.argv[2] ?? 7);
const lines = Number(process.argv[3] ?? 20_000);
const root = fileURLToPath(new URL('..', import.meta.url));
const { outputFiles } = await build({
  stdin: {
    contents: `
      export { genericProvider } from './packages/gateway/src/providers/generic.ts';
      export { allowlistedEnv } from './packages/gateway/src/providers/environment.ts';
      export { Spool } from './packages/gateway/src/spool/run-spool.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'node',
  external: ['better-sqlite3'],
});
const { genericProvider, allowlistedEnv, Spool } = await import(
  `data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`
);

const base = mkdtempSync(join(tmpdir(), 'gantry-bench-spool-'));
process.on('exit', () => rmSync(base, { recursive: true, force: true }));
const bin = join(base, 'agent.sh');
writeFileSync(bin, `#!/bin/sh\nseq 1 ${lines} | sed 's/^/line /'\n`, { mode: 0o755 });
const spool = new Spool(join(base, 'spool'));
spool.prepare();
spool.startHeartbeat();
const provider = genericProvider(bin, { interruptMs: 1000, terminateMs: 1000 });

async function once(spooled, round) {
  let events = 0;
  const runId = `asg_${round}#1`;
  const started = performance.now();
  const outcome = await provider.run({
    assignment: {
      id: `asg_${round}`,
      attempt: 1,
      agentId: 'a',
      agentName: 'a',
      prompt: 'go',
      sessionKey: 'default',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60_000,
    },
    workdir: base,
    env: { ...allowlistedEnv(), GANTRY_RUN_ID: runId },
    args: [],
    settings: {},
    signal: new AbortController().signal,
    requestPermission: async () => 'denied',
    emit: () => (events += 1),
    room: () => undefined,
    ...(spooled
      ? { spool: spool.forRun(runId, 60_000, new AbortController().signal, () => ({ runId })) }
      : {}),
  });
  const ms = performance.now() - started;
  if (outcome.status !== 'succeeded' || events !== lines)
    throw new Error(`bad run: ${outcome.status}, ${events} events`);
  if (spooled) spool.remove(runId);
  return ms;
}

const times = { pipes: [], spool: [] };
await once(false, 0);
await once(true, 0);
for (let round = 1; round <= rounds; round += 1) {
  times.pipes.push(await once(false, round));
  times.spool.push(await once(true, round));
}
spool.stopHeartbeat();
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const rows = Object.entries(times).map(([way, list]) => ({
  way,
  medianMs: Math.round(median(list)),
  linesPerS: Math.round(lines / (median(list) / 1000)),
}));
const ratio = median(times.spool) / median(times.pipes);
console.log(`${lines} lines per run, ${rounds} rounds (median)`);
console.log('way     median ms   lines/s');
for (const row of rows)
  console.log(
    `${row.way.padEnd(7)} ${String(row.medianMs).padStart(9)} ${String(row.linesPerS).padStart(9)}`,
  );
console.log(`spool / pipes: ${ratio.toFixed(2)}x`);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('results/spool.json', import.meta.url),
  `${JSON.stringify({ lines, rounds, rows, ratio }, null, 2)}\n`,
);
