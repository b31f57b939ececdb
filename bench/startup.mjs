// Start-up time of `gantry --version` against `node -e 0`, run alternately in one process so both see the
// same machine load. Prints a table and writes bench/results/startup.json. Usage: node bench/startup.mjs [runs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 40);
const cli = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));
const subjects = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'gantry --version': [process.execPath, [cli, '--version']],
  'gantry --help': [process.execPath, [cli, '--help']],
};

const samples = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
for (let i = 0; i < runs + 3; i++) {
  for (const [name, [bin, args]] of Object.entries(subjects)) {
    const start = process.hrtime.bigint();
    const result = spawnSync(bin, args, { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
    if (i >= 3) samples[name].push(ms); // the first runs warm the file cache
  }
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const base = quantile(samples['node -e 0'], 0.5);
const rows = Object.entries(samples).map(([name, values]) => ({
  name,
  medianMs: +quantile(values, 0.5).toFixed(1),
  p90Ms: +quantile(values, 0.9).toFixed(1),
  ratio: +(quantile(values, 0.5) / base).toFixed(2),
}));

console.log(`start-up, ${runs} runs each, alternating`);
console.log(['command'.padEnd(18), 'median ms', '  p90 ms', 'x node -e 0'].join('  '));
for (const r of rows) {
  console.log(
    [
      r.name.padEnd(18),
      String(r.medianMs).padStart(9),
      String(r.p90Ms).padStart(8),
      String(r.ratio).padStart(11),
    ].join('  '),
  );
}
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const out = new URL('results/startup.json', import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, rows }, null, 2)}\n`,
);
console.log(`wrote ${fileURLToPath(out)}`);
