/** A chain as `gantry chains show` reads it: its runs (who triggered whom), what its limits stopped, its cost. */
import type { AssignmentState, Chain, ChainRun, ResultDetails } from '@gantry/protocol';
import type { ChainRow, Store } from '../store/store.ts';
import type { ChainLimits } from './chain-limits.ts';
import { iso } from './views.ts';

export async function chainView(store: Store, limits: ChainLimits, chain: ChainRow): Promise<Chain> {
  const rows = await store.chains.assignments(chain.id);
  const agents = new Map((await store.agents.list(chain.workspace_id)).map((a) => [a.id, a]));
  const name = (id: string) => ({ id, name: agents.get(id)?.name ?? '(removed)' });
  const now = Date.now();
  const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  const runs: ChainRun[] = rows.map((row) => {
    const details = row.result_details ? (JSON.parse(row.result_details) as ResultDetails) : {};
    if (details.usage) {
      usage.inputTokens += details.usage.inputTokens;
      usage.outputTokens += details.usage.outputTokens;
      usage.costUsd += details.usage.costUsd ?? 0;
    }
    return {
      id: row.id,
      agent: name(row.agent_id),
      state: row.state as AssignmentState,
      depth: row.depth,
      causeId: row.cause_id,
      createdAt: iso(row.created_at) as string,
      startedAt: iso(row.started_at),
      finishedAt: iso(row.finished_at),
      durationMs: row.started_at === null ? null : (row.finished_at ?? now) - row.started_at,
      ...(details.usage ? { usage: details.usage } : {}),
    };
  });
  const stopped = (await store.work.stopped(chain.id)).map((w) => ({
    agent: name(w.agent_id),
    depth: w.depth,
    messageId: w.message_id,
    taskId: w.task_id,
  }));
  const { maxDepth, maxRuns } = limits.limitsOf(chain);
  return {
    id: chain.id,
    workspaceId: chain.workspace_id,
    root: { kind: chain.root_kind as Chain['root']['kind'], id: chain.id },
    person: chain.person_id ? { kind: 'user', id: chain.person_id, name: chain.person_name ?? '' } : null,
    maxDepth,
    maxRuns,
    runs,
    stopped,
    stoppedAt: iso(chain.stopped_at),
    usage,
  };
}
