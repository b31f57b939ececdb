/**
 * Pausing an agent (`gantry agents pause` / `resume`): while paused, its mentions and assignments
 * are still created but wait in the queue, in order — the dispatcher offers none of them and the
 * queue TTL does not run — and resuming hands them to its gateway oldest first.
 */
import { agentPaused, agentResumed, type PauseResult } from '@gantry/protocol';
import type { Actor } from './actor.ts';
import { requireRole } from '../auth/roles.ts';
import type { NoticeBus } from '../bus.ts';
import type { Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import { agentViews, findAgentOrThrow } from './agents.ts';

export interface PauseDeps {
  store: Store;
  activity: Activity;
  bus: NoticeBus;
}

/** Pauses or resumes; doing it again is no change and records nothing. */
export async function setPaused(
  deps: PauseDeps,
  caller: Actor,
  ref: string,
  paused: boolean,
): Promise<PauseResult> {
  requireRole(caller, 'admin', paused ? 'pause agents' : 'resume agents');
  const { store, activity } = deps;
  const agent = await findAgentOrThrow(store, caller, ref);
  const now = Date.now();
  const entry = await store.transaction(async (tx) => {
    if (!(await tx.agents.setPaused(agent.id, paused))) return undefined;
    // The queue TTL counts from now again: time spent paused is not time left unserved.
    if (!paused) await tx.assignments.touchQueued(agent.id, now);
    return activity.record(
      tx,
      paused ? agentPaused : agentResumed,
      {
        workspaceId: caller.workspaceId,
        actor: { kind: 'user', id: caller.id, name: caller.name },
        subject: agent.id,
        data: { agent: { id: agent.id, name: agent.name } },
      },
      now,
    );
  });
  if (entry) activity.published(entry);
  if (!paused) deps.bus.emit('resumed', { agentId: agent.id });
  const row = (await store.agents.get(agent.id)) ?? agent;
  const queued = await store.assignments.countQueued(agent.id);
  return {
    agent: (await agentViews(store, [row]))[0] as PauseResult['agent'],
    queued,
  };
}
