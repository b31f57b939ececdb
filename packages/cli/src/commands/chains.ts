/** `gantry chains show|continue`: a chain's tree of runs, and letting a stopped chain go on. */
import { chainSchema, type Chain, type ChainRun } from '@gantry/protocol';
import { parseChainMaxRuns } from '../chain-max-runs.ts';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration } from '../duration.ts';
import { printJson, printLine } from '../output.ts';

type Json = { json?: boolean };

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
  if (chain.stopped.length > 0) lines.push(`Let it go on: gantry chains continue ${chain.id} [--runs N]`);
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
