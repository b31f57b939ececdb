/**
 * One row per agent, joined from what the hub serves: the agent, its reachability, its gateways
 * (host, provider, last heartbeat), pending device or folder approvals, and its running and
 * queued work.
 */
import type { Agent, Assignment } from '@gantry/protocol';
import {
  useAgents,
  useApprovals,
  useAssignments,
  useGateways,
  useReachability,
} from '../../api/resources.ts';

export type Presence = 'live' | 'queue-only' | 'offline' | 'pending approval';

export interface RosterRow {
  agent: Agent;
  presence: Presence;
  reason: string;
  gateways: {
    id: string;
    name: string;
    host: string | null;
    connected: boolean;
    lastSeenAt: string | null;
  }[];
  provider: string | null;
  version: string | null;
  current: Assignment | undefined;
  queued: number;
  /** Messages in its mailbox it has not read. */
  unread: number;
  lastActivity: string | null;
}

export function useRoster() {
  const agents = useAgents();
  const reach = useReachability();
  const gateways = useGateways();
  const approvals = useApprovals();
  const running = useAssignments({ state: 'running', limit: 1000 });
  const queued = useAssignments({ state: 'queued', limit: 1000 });
  const recent = useAssignments({ limit: 200 });

  const rows = (agents.data ?? []).map((agent): RosterRow => {
    const r = reach.data?.find((x) => x.agent.id === agent.id);
    const waiting = approvals.data?.some((a) => a.agent.id === agent.id && a.kind !== 'tool_permission');
    const gws = (gateways.data ?? []).filter((g) => g.agents.some((a) => a.id === agent.id));
    const presence: Presence = waiting
      ? 'pending approval'
      : r?.reachability === 'live'
        ? 'live'
        : r?.reachability === 'queue-only'
          ? 'queue-only'
          : 'offline';
    const times = [
      ...(recent.data ?? []).filter((a) => a.agent.id === agent.id).map((a) => a.updatedAt),
      ...gws.map((g) => g.lastSeenAt),
      r?.lastInboxAt,
    ].filter((t): t is string => !!t);
    return {
      agent,
      presence,
      reason: waiting ? 'a device or folder waits for approval' : (r?.reason ?? ''),
      gateways: gws.map((g) => ({
        id: g.id,
        name: g.name,
        host: g.hostname,
        connected: g.connected,
        lastSeenAt: g.lastSeenAt,
      })),
      provider:
        gws.flatMap((g) => g.agents.filter((a) => a.id === agent.id).map((a) => a.provider))[0] ?? null,
      version: gws[0]?.version ?? null,
      current: running.data?.find((a) => a.agent.id === agent.id),
      queued: queued.data?.filter((a) => a.agent.id === agent.id).length ?? 0,
      unread: r?.unread ?? 0,
      lastActivity: times.sort().at(-1) ?? null,
    };
  });
  const queries = [agents, reach, gateways, running, queued];
  return {
    rows,
    isPending: agents.isPending,
    error: queries.find((q) => q.error)?.error,
  };
}
