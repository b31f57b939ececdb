/**
 * `gantry chains list|show|continue|dismiss`: the chains a person may see (by default those stopped
 * at a limit, waiting on them), a chain's tree of runs, letting a stopped chain go on or leaving it stopped.
 */
import * as z from 'zod';
import {
  chainSchema,
  chainSummarySchema,
  type Chain,
  type ChainRun,
  type ChainSummary,
} from '@gantry/protocol';
import { parseChainMaxRuns } from '../chain-max-runs.ts';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration } from '../duration.ts';
import { printJson, printLine, table } from '../output.ts';

type Json = { json?: boolean };

/** `stopped` (the default: what waits on you, oldest stop first) or `all` (newest first). */
export async function list(options: HubOptions & Json & { state?: string }): Promise<void> {
  const all = options.state === 'all';
  const chains = await HubClient.from(options).request(
    'GET',
    all ? '/v1/chains' : '/v1/chains?state=stopped',
    z.array(chainSummarySchema),
  );
  if (options.json) return printJson(chains);
  if (chains.length === 0)
    return printLine(
      all
        ? "No chains yet: a person's message, assignment or task starts one."
        : 'No chain is stopped at its limit. Every chain: gantry chains list --state all',
    );
  const now = Date.now();
  printLine(
    table([
      ['ID', 'STATE', 'STARTER', 'RUNS', 'DEPTH', 'AGE', 'STARTED WITH'],
      ...chains.map((c) => [
        c.id,
        chainState(c),
        c.person?.name ?? 'unattended',
        `${c.runs}/${c.maxRuns}`,
        `${c.depth}/${c.maxDepth}`,
        formatDuration(Math.max(0, now - Date.parse(c.createdAt))),
        c.head === null ? `(${c.root.kind})` : c.head.length > 50 ? `${c.head.slice(0, 49)}…` : c.head,
      ]),
    ]),
  );
  if (chains.some((c) => c.stop))
    printLine(
      '\nLet one go on: gantry chains continue ID [--runs N] · leave it stopped: gantry chains dismiss ID · its tree: gantry chains show ID',
    );
}

/**
 * `stopped at runs limit (coder not run, 1 waiting)`; `dismissed (1 not run)` once it waits on nobody
 * but what was stopped has not run; else `active` (a run not ended yet) or `ended`.
 */
export function chainState(c: ChainSummary): string {
  if (c.stop)
    return `stopped at ${c.stop.limit} limit (${c.stop.agent.name} not run, ${c.stop.waiting} waiting)`;
  if (c.held > 0) return `dismissed (${c.held} not run)`;
  return c.active > 0 ? 'active' : 'ended';
}

export async function show(id: string, options: HubOptions & Json): Promise<void> {
  const chain = await HubClient.from(options).request(
    'GET',
    `/v1/chains/${encodeURIComponent(id)}`,
    chainSchema,
  );
  if (options.json) return printJson(chain);
  printLine(chainTree(chain));
}

export async function continueChain(
  id: string,
  options: HubOptions & Json & { runs?: string },
): Promise<void> {
  const runs = parseChainMaxRuns(options.runs, '--runs');
  const chain = await HubClient.from(options).request(
    'POST',
    `/v1/chains/${encodeURIComponent(id)}/continue`,
    chainSchema,
    runs === undefined ? {} : { runs },
  );
  if (options.json) return printJson(chain);
  const waiting = chain.stopped.length;
  printLine(
    `Chain ${chain.id} goes on: up to ${chain.maxRuns} runs, ${chain.maxDepth} deep` +
      (waiting > 0 ? `; ${waiting} stopped trigger(s) run now` : ''),
  );
}

export async function dismiss(id: string, options: HubOptions & Json): Promise<void> {
  const chain = await HubClient.from(options).request(
    'POST',
    `/v1/chains/${encodeURIComponent(id)}/dismiss`,
    chainSchema,
  );
  if (options.json) return printJson(chain);
  const waiting = chain.stopped.length;
  printLine(
    `Chain ${chain.id} waits on nobody now` +
      (waiting > 0
        ? `; its ${waiting} stopped trigger(s) stay stopped (gantry chains continue ${chain.id} runs them)`
        : ''),
  );
}

/** Who triggered whom: each run under the run whose action started it. */
export function chainTree(chain: Chain): string {
  const who = chain.person ? `started by ${chain.person.name}` : 'unattended';
  const lines = [
    `Chain ${chain.id} (${chain.root.kind}, ${who}) · ${chain.runs.length} of ${chain.maxRuns} runs · at most ${chain.maxDepth} deep`,
  ];
  const ids = new Set(chain.runs.map((r) => r.id));
  const children = new Map<string | null, ChainRun[]>();
  for (const run of chain.runs) {
    const parent = run.causeId && ids.has(run.causeId) ? run.causeId : null;
    children.set(parent, [...(children.get(parent) ?? []), run]);
  }
  const walk = (parent: string | null, indent: string) => {
    for (const run of children.get(parent) ?? []) {
      lines.push(`${indent}${runLine(run)}`);
      walk(run.id, `${indent}  `);
    }
  };
  walk(null, '');
  for (const s of chain.stopped) {
    const what = s.messageId ? `message ${s.messageId}` : s.taskId ? `task ${s.taskId}` : 'a trigger';
    lines.push(`stopped: ${s.agent.name} at depth ${s.depth} (${what})`);
  }
  if (chain.stoppedAt !== null)
    lines.push(
      `Waiting on a person: gantry chains continue ${chain.id} [--runs N] lets it go on, gantry chains dismiss ${chain.id} leaves it stopped`,
    );
  else if (chain.stopped.length > 0)
    lines.push(`Let it go on: gantry chains continue ${chain.id} [--runs N]`);
  const { inputTokens, outputTokens, costUsd } = chain.usage;
  if (inputTokens + outputTokens > 0)
    lines.push(`Usage: ${inputTokens} in / ${outputTokens} out tokens · $${costUsd.toFixed(4)}`);
  return lines.join('\n');
}

function runLine(run: ChainRun): string {
  const took = run.durationMs === null ? '-' : formatDuration(run.durationMs);
  const usage = run.usage
    ? ` · ${run.usage.inputTokens}/${run.usage.outputTokens} tokens` +
      (run.usage.costUsd === undefined ? '' : ` $${run.usage.costUsd.toFixed(4)}`)
    : '';
  return `└ ${run.id} ${run.agent.name} ${run.state} · depth ${run.depth} · ${took}${usage}`;
}
