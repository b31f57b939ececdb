/**
 * The chains a person may see (`GET /v1/chains`): owners and admins every chain of the workspace, a
 * member those they started (the same rule as a chain's tree). `stopped`: those stopped at a limit,
 * waiting on a person until continued or dismissed — the dashboard's Needs you.
 */
import { GantryError, type ChainSummary, type ListChainsQuery } from '@gantry/protocol';
import { hasRole } from '../auth/roles.ts';
import type { ChainRow, Store } from '../store/store.ts';
import type { Actor } from './actor.ts';
import type { ChainLimits } from './chain-limits.ts';
import { iso } from './views.ts';

export async function listChains(
  store: Store,
  limits: ChainLimits,
  caller: Actor,
  q: ListChainsQuery,
): Promise<ChainSummary[]> {
  if (caller.kind !== 'user')
    throw new GantryError(
      'forbidden',
      'chains are for people only: sign in as a user, not with an agent key',
    );
  const rows = await store.chains.list(caller.workspaceId, {
    stopped: q.state === 'stopped',
    ...(hasRole(caller, 'admin') ? {} : { personId: caller.id }),
    limit: q.limit ?? 100,
  });
  const agents = new Map((await store.agents.list(caller.workspaceId)).map((a) => [a.id, a]));
  return Promise.all(
    rows.map(async (row): Promise<ChainSummary> => {
      const { maxDepth, maxRuns } = limits.limitsOf(row);
      const agentId = row.stopped_agent_id ?? '';
      const { runs, depth, active } = await store.chains.tally(row.id);
      const held = (await store.work.stopped(row.id)).length;
      return {
        id: row.id,
        workspaceId: row.workspace_id,
        root: { kind: row.root_kind as ChainSummary['root']['kind'], id: row.id },
        person: row.person_id ? { kind: 'user', id: row.person_id, name: row.person_name ?? '' } : null,
        head: await head(store, row, caller.id),
        createdAt: iso(row.created_at) as string,
        maxDepth,
        maxRuns,
        runs,
        depth,
        active,
        held,
        stop:
          row.stopped_at === null
            ? null
            : {
                at: iso(row.stopped_at) as string,
                limit: row.stopped_limit === 'depth' ? 'depth' : 'runs',
                agent: { id: agentId, name: agents.get(agentId)?.name ?? '(removed)' },
                waiting: held,
              },
      };
    }),
  );
}

/**
 * The first line of the chain's root. A message's only for the person who wrote it: an admin sees
 * every chain, not every thread.
 */
async function head(store: Store, chain: ChainRow, callerId: string): Promise<string | null> {
  const text =
    chain.root_kind === 'assignment'
      ? (await store.assignments.get(chain.id))?.prompt
      : chain.root_kind === 'task'
        ? (await store.tasks.get(chain.id, chain.workspace_id))?.title
        : chain.root_kind === 'message' && chain.person_id === callerId
          ? (await store.messages.get(chain.id))?.body
          : undefined;
  if (text === undefined) return null;
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
