// What a chaos run must show at its end, each failure a violation with what it concerns:
// - not_terminal: an assignment not in a terminal state once the faults are healed and the run waited;
// - twin: two assignments for one planned create (each is sent with an Idempotency-Key, so a create
//   retried after its hub died is answered with the first, never made twice);
// - ran_twice: one attempt's provider process started more than once;
// - overlap: two runs of one assignment ran at once for longer than the grace while the older one's
//   gateway was up and able to stop it (time it was killed or frozen is reported, not counted);
// - events: a run's stored events out of order, with a gap or a repeat, or a succeeded run without all
//   its lines and its result;
// - cancelled_without_cancel: `cancelled` that no person asked for;
// - unexpected_state: `failed` other than `gateway_lost` (the script never fails), `timed_out`, `expired`;
// - stale_run: a provider process still running after every assignment ended and the run settled;
// - process_left: any provider, gateway or hub process alive after shutdown;
// - unclean_exit: a hub or gateway that did not exit on SIGTERM.
import { parsePrompt } from './plan.mjs';

const terminal = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'expired']);

export function check({ assignments, runs, overlaps, cancelRequested, stale, left, exits, overlapGraceMs }) {
  const violations = [];
  const add = (kind, subject, detail) => violations.push({ kind, subject, detail });

  const byPlan = new Map();
  for (const a of assignments) byPlan.set(a.prompt, [...(byPlan.get(a.prompt) ?? []), a.id]);
  for (const [prompt, ids] of byPlan)
    if (ids.length > 1) add('twin', ids.join(' '), `${ids.length} assignments for '${prompt}'`);

  for (const a of assignments) {
    if (!terminal.has(a.state)) add('not_terminal', a.id, `state ${a.state}, attempt ${a.attempt}`);
    if (a.state === 'cancelled' && !cancelRequested.has(a.id))
      add('cancelled_without_cancel', a.id, `error ${JSON.stringify(a.error)}`);
    if (a.state === 'failed' && a.error?.code !== 'gateway_lost')
      add('unexpected_state', a.id, `failed: ${a.error?.code}: ${a.error?.message}`);
    if (a.state === 'timed_out' || a.state === 'expired') add('unexpected_state', a.id, a.state);
    for (const problem of eventProblems(a)) add('events', a.id, problem);
  }

  const starts = new Map();
  for (const run of runs) {
    const key = `${run.assignment} attempt ${run.attempt}`;
    starts.set(key, [...(starts.get(key) ?? []), run]);
  }
  for (const [key, list] of starts) {
    if (list.length > 1)
      add(
        'ran_twice',
        key,
        `started ${list.length} times: ${list.map((r) => `pid ${r.pid} on ${r.gw}`).join(', ')}`,
      );
  }
  for (const o of overlaps) {
    if (o.unexcusedMs > overlapGraceMs)
      add(
        'overlap',
        o.assignment,
        `attempt ${o.older.attempt} (${o.older.gateway}) ran ${o.unexcusedMs} ms beside attempt ${o.newer.attempt} (${o.newer.gateway}) while its gateway was up (${o.ms} ms in all)`,
      );
  }
  for (const run of stale) add('stale_run', run.assignment, `attempt ${run.attempt}, pid ${run.pid}`);
  for (const p of left.runs) add('process_left', p.assignment, `provider pid ${p.pid}, attempt ${p.attempt}`);
  for (const p of left.processes) add('process_left', `pid ${p.pid}`, p.cmdline);
  for (const e of exits) if (!e.clean) add('unclean_exit', e.name, e.detail);
  return violations;
}

/** A run's events: per attempt, seq 1, 2, 3 ...; the lines in order; a succeeded run complete. */
function eventProblems(a) {
  const problems = [];
  const planned = parsePrompt(a.prompt);
  if (!planned) return [`prompt not from this run: ${a.prompt}`];
  const byAttempt = new Map();
  for (const e of a.events) byAttempt.set(e.attempt, [...(byAttempt.get(e.attempt) ?? []), e]);
  for (const [attempt, events] of byAttempt) {
    if (attempt > a.attempt)
      problems.push(`events of attempt ${attempt}, after the last attempt ${a.attempt}`);
    const seqs = events.map((e) => e.seq);
    const expected = seqs.map((_, i) => i + 1);
    if (seqs.join() !== expected.join()) problems.push(`attempt ${attempt}: seq ${compact(seqs)}`);
    const lines = events.filter((e) => e.type === 'output').map((e) => e.data.text);
    const wanted = lines.map((_, i) => `line ${i + 1}`);
    if (lines.join('|') !== wanted.join('|')) problems.push(`attempt ${attempt}: lines ${compact(lines)}`);
    const results = events.filter((e) => e.type === 'result');
    if (results.length > 1) problems.push(`attempt ${attempt}: ${results.length} results`);
    if (results.length === 1 && events.at(-1).type !== 'result')
      problems.push(`attempt ${attempt}: events after its result`);
  }
  if (a.state === 'succeeded') {
    const last = byAttempt.get(a.attempt) ?? [];
    const lines = last.filter((e) => e.type === 'output').length;
    const result = last.find((e) => e.type === 'result');
    if (lines !== planned.lines) problems.push(`succeeded with ${lines} of ${planned.lines} lines`);
    if (result?.data?.text !== `done ${planned.lines}`) problems.push('succeeded without its result event');
    if (a.result?.output !== `done ${planned.lines}`)
      problems.push(`succeeded with result ${JSON.stringify(a.result)}`);
  }
  return problems;
}

function compact(list) {
  const text = list.join(',');
  return text.length > 120 ? `${text.slice(0, 120)}...` : text;
}
