// The cost of masking secrets in run events (it runs on every event a provider emits): the masker
// of packages/protocol/src/redact.ts (every key shape in one expression, plus known values for a
// run) against the one it replaced (Gantry tokens and JWTs only), on the same events, alternately.
// Prints a table and writes bench/results/redact.json. Usage: node bench/redact.mjs [rounds]
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const rounds = Number(process.argv[2] ?? 15);
const source = fileURLToPath(new URL('../packages/protocol/src/redact.ts', import.meta.url));
const bundled = await build({ entryPoints: [source], bundle: true, write: false, format: 'esm' });
const { redactDeep, Redactor } = await import(
  `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`
);

// The baseline: the masker before issue 10 (two patterns behind a substring check).
const oldToken = /\b(gnt_[uag]_[a-z0-9_]{8,64})\.[A-Za-z0-9_-]{20,128}/g;
const oldJwt = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
const oldRedact = (text) =>
  !text.includes('gnt_') && !text.includes('eyJ')
    ? text
    : text.replace(oldToken, '$1.[redacted]').replace(oldJwt, '[redacted jwt]');
function oldDeep(value) {
  if (typeof value === 'string') return oldRedact(value);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = oldDeep(v);
      changed ||= r !== v;
      return r;
    });
    return changed ? out : value;
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const r = oldDeep(v);
      changed ||= r !== v;
      out[k] = r;
    }
    return changed ? out : value;
  }
  return value;
}

// Events as providers emit them: output lines of a build, and codex-like JSON with its raw event.
const events = [];
for (let i = 0; i < 5000; i++) {
  const line = `src/module-${i}.ts:${i % 400}:12 - warning: unused variable 'value${i}' (no-unused-vars) in function handle${i}`;
  events.push({ text: line });
  events.push({
    message: `reading file ${i}`,
    raw: {
      type: 'item.completed',
      item: {
        id: `item_${i}`,
        type: 'command_execution',
        command: `rg -n TODO src/${i}`,
        output: line.repeat(3),
      },
    },
  });
}
const chars = JSON.stringify(events).length;

const runValues = [
  'my-very-own-secret-4242',
  'sk-proj-0123456789abcdefghij',
  `aZ3xQ9mK2pL7vB4n${'x'.repeat(27)}`,
];
const subjects = {
  'before (tokens, JWTs)': (e) => oldDeep(e),
  'shapes only': (e) => redactDeep(e),
  'a run: shapes + 3 values': (() => {
    const mask = new Redactor(runValues, { stream: true });
    return (e) => mask.deep(e);
  })(),
};

const samples = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
for (let r = 0; r < rounds + 2; r++) {
  for (const [name, fn] of Object.entries(subjects)) {
    const start = process.hrtime.bigint();
    for (const event of events) fn(event);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r >= 2) samples[name].push(ms); // the first rounds warm the JIT
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const base = median(samples['before (tokens, JWTs)']);
const rows = Object.entries(samples).map(([name, values]) => ({
  name,
  medianMs: +median(values).toFixed(2),
  eventsPerSecond: Math.round(events.length / (median(values) / 1000)),
  mbPerSecond: +(chars / 1e6 / (median(values) / 1000)).toFixed(1),
  ratio: +(median(values) / base).toFixed(2),
}));

console.log(
  `masking ${events.length} events (${(chars / 1e6).toFixed(1)} MB of JSON), ${rounds} rounds, alternating`,
);
console.log(['masker'.padEnd(26), 'median ms', '  events/s', '  MB/s', 'x before'].join('  '));
for (const r of rows) {
  console.log(
    [
      r.name.padEnd(26),
      String(r.medianMs).padStart(9),
      String(r.eventsPerSecond).padStart(10),
      String(r.mbPerSecond).padStart(6),
      String(r.ratio).padStart(8),
    ].join('  '),
  );
}
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
const out = new URL('results/redact.json', import.meta.url);
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds, events: events.length, rows }, null, 2)}\n`,
);
console.log(`wrote ${fileURLToPath(out)}`);
