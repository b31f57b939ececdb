// The chaos run's summary: a table on standard output and the same facts as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const count = (list, key) => {
  const out = {};
  for (const item of list) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
};

export function summarize({
  options,
  plan,
  timing,
  ranMs,
  faults,
  cancelRequested,
  assignments,
  runs,
  overlaps,
  violations,
}) {
  const outcomes = count(assignments, (a) =>
    a.state === 'failed'
      ? `failed (${a.error?.code})`
      : a.state === 'cancelled'
        ? 'cancelled (by a person)'
        : a.state,
  );
  const twins = assignments.length - new Set(assignments.map((a) => a.prompt)).size;
  return {
    date: new Date().toISOString(),
    node: process.version,
    options: { ...options, out: undefined },
    timing,
    plannedMs: plan.durationMs,
    ranMs,
    assignments: assignments.length,
    twins,
    outcomes,
    attempts: count(assignments, (a) => a.attempt),
    faults: count(faults, (f) => f.kind),
    faultLog: faults,
    cancelsRequested: cancelRequested.size,
    providerRuns: runs.length,
    overlaps: {
      count: overlaps.length,
      longestMs: Math.max(0, ...overlaps.map((o) => o.ms)),
      longestUnexcusedMs: Math.max(0, ...overlaps.map((o) => o.unexcusedMs)),
      list: overlaps,
    },
    violations,
  };
}

export function printSummary(s, out) {
  const o = s.options;
  const row = (k, v) => console.log(`  ${k.padEnd(30)} ${v}`);
  console.log(
    `\nchaos: store ${o.store}, ${o.hubs} hub(s), ${o.gateways} gateways x ${o.concurrency} slots, ${o.agents} agents, ` +
      `lease ${s.timing.leaseMs} ms (grace ${s.timing.graceMs}, heartbeat ${s.timing.heartbeatMs}), seed ${o.seed}`,
  );
  row('assignments', `${s.assignments} (${s.twins} twins of a retried POST)`);
  row('ran', `${(s.ranMs / 1000).toFixed(1)} s (faults over ${(s.plannedMs / 1000).toFixed(0)} s)`);
  row('faults', fmt(s.faults));
  row('cancels requested', s.cancelsRequested);
  console.log(`  ${'outcome'.padEnd(30)} count`);
  for (const [k, v] of Object.entries(s.outcomes).sort()) row(`  ${k}`, v);
  row('attempts per assignment', fmt(s.attempts));
  row('provider processes started', s.providerRuns);
  row(
    'runs of one assignment at once',
    `${s.overlaps.count} (longest ${s.overlaps.longestMs} ms, while its gateway was up ${s.overlaps.longestUnexcusedMs} ms)`,
  );
  console.log(`  ${'violations'.padEnd(30)} ${s.violations.length}`);
  for (const v of s.violations.slice(0, 50)) console.log(`    ${v.kind}: ${v.subject}: ${v.detail}`);
  if (s.violations.length > 50) console.log(`    ... and ${s.violations.length - 50} more (see ${out})`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(s, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

const fmt = (obj) =>
  Object.entries(obj)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || 'none';
