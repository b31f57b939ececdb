/**
 * Applies activity entries to the query cache: each entry invalidates the resources it changed
 * (only queries on screen refetch; the rest are marked stale), and the Activity feed gets the
 * entries themselves. A fresh stream (not a resume) may have missed changes made before it began,
 * so every query read before it is refreshed once.
 */
import type { QueryClient, QueryKey } from '@tanstack/react-query';
import type { ActivityEvent } from '@gantry/protocol';
import { keys } from '../api/resources.ts';
import { appendActivity } from '../views/activity/feed.ts';
import { onEntries, onReady } from './live.ts';

/** The queries an entry may have changed. */
export function affected(entry: ActivityEvent): QueryKey[] {
  const [group] = entry.type.split('.');
  switch (group) {
    case 'message':
      // Unread counts of the roster change with mail sent and read.
      return [keys.messages, keys.reachability];
    case 'task':
      return [keys.tasks];
    case 'context':
      return [keys.context];
    case 'agent':
    case 'gateway':
      // A gateway connecting or leaving changes who is live.
      return [keys.agents, keys.gateways];
    case 'chain':
      // Stopped, continued or dismissed: the lists of chains, and its tree.
      return entry.subject ? [keys.chains, keys.chain(entry.subject)] : [keys.chains];
    case 'assignment': {
      // A run's state shows in its chain's tree (only an open tree refetches).
      const out: QueryKey[] = [['assignments'], ['chain']];
      if (entry.subject) out.push(keys.assignment(entry.subject));
      // A new run may start a chain, and counts in its chain's runs.
      if (entry.type === 'assignment.created') out.push(keys.chains);
      // A finished run's open tool requests expire with it.
      if (entry.type === 'assignment.finished') out.push(keys.approvals);
      return out;
    }
    case 'approval':
      // A decided device or folder changes who is served; an approved folder may add an agent.
      return [keys.approvals, keys.agents, keys.gateways];
    default:
      return [];
  }
}

const feedBatchMs = 50;

export function applyLive(client: QueryClient): () => void {
  const feedBatch: ActivityEvent[] = [];
  let feedTimer: ReturnType<typeof setTimeout> | undefined;
  const offEntries = onEntries((entries) => {
    const seen = new Set<string>();
    for (const entry of entries) {
      for (const key of affected(entry)) {
        const id = JSON.stringify(key);
        if (seen.has(id)) continue;
        seen.add(id);
        void client.invalidateQueries({ queryKey: key });
      }
    }
    // A burst (thousands of entries a second) reaches the feed in a few renders, not one per entry.
    feedBatch.push(...entries);
    feedTimer ??= setTimeout(() => {
      feedTimer = undefined;
      appendActivity(client, feedBatch.splice(0));
    }, feedBatchMs);
  });
  // A fresh stream (not a resume) may have missed what changed since data already here was read.
  const offReady = onReady((_id, resumed) => {
    if (resumed) return;
    void client.invalidateQueries({
      predicate: (q) =>
        q.queryKey[0] !== 'session' && (q.state.dataUpdatedAt > 0 || q.state.fetchStatus !== 'idle'),
    });
  });
  return () => {
    offEntries();
    offReady();
    clearTimeout(feedTimer);
  };
}
