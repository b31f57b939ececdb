// Start-up time of the CLI, run alternately in one process so every command sees the same machine load:
// `node -e 0`, `gantry --version` and `--help`, and three commands that talk to a local hub (`whoami`,
// `agents list`, `assign echo hi --wait`) against a hub and gateway `gantry up` starts in a temporary
// GANTRY_HOME. Prints a table with each median against `node -e 0` and against `--version`, and writes
// bench/results/startup.json. Usage: node bench/startup.mjs [runs]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 30);
const cli = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'gantry-startup-'));
const env = { ...process.env, GANTRY_HOME: home };
delete env.GANTRY_TOKEN;
delete env.GANTRY_HUB_URL;

/** `gantry up` on free ports; resolves once it prints its addresses. */
async function startUp() {
  const up = spawn(process.execPath, [cli, 'up', '--port', '0', '--gateway-port', '0', '--json'], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: up.stdout });
  for await (const line of lines) {
    if (line.startsWith('{')) return { up, ready: JSON.parse(line) };
  }
  throw new Error('gantry up ended before it was ready');
}

const { up, ready } = await startUp();
const subjects = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'gantry --version': [process.execPath, [cli, '--version']],
  'gantry --help': [process.execPath, [cli, '--help']],
  'gantry whoami': [process.execPath, [cli, 'whoami']],
  'gantry agents list': [process.execPath, [cli, 'agents', 'list']],
  'assign echo hi --wait': [process.execPath, [cli, 'assign', 'echo', 'hi', '--wait']],
};

const samples = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
try {
  for (let i = 0; i < runs + 3; i++) {
    for (const [name, [bin, args]] of Object.entries(subjects)) {
      const start = process.hrtime.bigint();
      const result = spawnSync(bin, args, { stdio: 'ignore', env });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
      if (i >= 3) samples[name].push(ms); // the first runs warm the file cache
    }
  }
} finally {
  up.kill('SIGTERM');
  await new Promise((resolve) => up.once('exit', resolve));
  rmSync(home, { recursive: true, force: true });
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const node = quantile(samples['node -e 0'], 0.5);
const version = quantile(samples['gantry --version'], 0.5);
const rows = Object.entries(samples).map(([name, values]) => ({
  name,
  medianMs: +quantile(values, 0.5).toFixed(1),
  p90Ms: +quantile(values, 0.9).toFixed(1),
  vsNode: +(quantile(values, 0.5) / node).toFixed(2),
  vsVersion: +(quantile(values, 0.5) / version).toFixed(2),
}));

console.log(`start-up, ${runs} runs each, alternating; hub ${ready.hub.url}`);
console.log(['command'.padEnd(22), 'median ms', '  p90 ms', 'x node -e 0', 'x --version'].join('  '));
for (const r of rows) {
  console.log(
    [
      r.name.padEnd(22),
      String(r.medianMs).padStart(9),
      String(r.p90Ms).padStart(8),
      String(r.vsNode).padStart(11),
      String(r.vsVersion).padStart(11),
    ].join('  '),
  );
}
console.log(
  'targets: --help within 1.5x of node -e 0; whoami, agents list, assign --wait within 2x of --version',
);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const out = new URL('results/startup.json', import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, rows }, null, 2)}\n`,
);
console.log(`wrote ${fileURLToPath(out)}`);
