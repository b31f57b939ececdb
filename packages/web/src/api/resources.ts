/**
 * The hub's resources as queries: one key per resource, so an activity entry can invalidate just
 * what it changed (live/apply.ts). Nothing here polls; data stays fresh by push.
 */
import { useQuery } from '@tanstack/react-query';
import type {
  Agent,
  AgentReach,
  Approval,
  Assignment,
  AssignmentState,
  AuditEntry,
  Chain,
  ChainSummary,
  ContextEntry,
  Gateway,
  GatewayDetail,
  Message,
  Task,
  TokenInfo,
  User,
} from '@gantry/protocol';
import { ApiError, request, segment } from './client.ts';

export const keys = {
  agents: ['agents'] as const,
  reachability: ['agents', 'reachability'] as const,
  gateways: ['gateways'] as const,
  gateway: (id: string) => ['gateways', id] as const,
  assignments: (filter: AssignmentFilter = {}) => ['assignments', filter] as const,
  assignment: (id: string) => ['assignment', id] as const,
  approvals: ['approvals'] as const,
  /** Lists of chains; a chain.* entry changes them. */
  chains: ['chains'] as const,
  /** One chain's tree: its runs change with every assignment.* entry. */
  chain: (id: string) => ['chain', id] as const,
  messages: ['messages'] as const,
  thread: (id: string) => ['messages', 'thread', id] as const,
  tasks: ['tasks'] as const,
  task: (id: string) => ['tasks', id] as const,
  context: ['context'] as const,
  contextEntry: (key: string) => ['context', 'entry', key] as const,
  users: ['users'] as const,
  tokens: ['tokens'] as const,
  audit: ['audit'] as const,
};

export interface AssignmentFilter {
  agent?: string;
  state?: AssignmentState;
  chain?: string;
  limit?: number;
}

function qs(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** What a member may not read (approvals, audit) is "nothing to show", not an error. */
async function orEmpty<T>(load: () => Promise<T[]>): Promise<T[]> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return [];
    throw err;
  }
}

export const useAgents = () =>
  useQuery({ queryKey: keys.agents, queryFn: () => request<Agent[]>('/v1/agents') });

/** Reachability and gateways change without an activity entry (a gateway connects): re-read on every visit. */
export const useReachability = () =>
  useQuery({
    queryKey: keys.reachability,
    queryFn: () => request<AgentReach[]>('/v1/agents/reachability'),
    staleTime: 0,
  });

export const useGateways = () =>
  useQuery({ queryKey: keys.gateways, queryFn: () => request<Gateway[]>('/v1/gateways'), staleTime: 0 });

export const useGateway = (id: string) =>
  useQuery({
    queryKey: keys.gateway(id),
    queryFn: () => request<GatewayDetail>(`/v1/gateways/${segment(id)}`),
    staleTime: 0,
  });

export const useAssignments = (filter: AssignmentFilter = {}) =>
  useQuery({
    queryKey: keys.assignments(filter),
    queryFn: () =>
      request<Assignment[]>(
        `/v1/assignments${qs({ agent: filter.agent, state: filter.state, chain: filter.chain, limit: filter.limit })}`,
      ),
  });

export const useAssignment = (id: string) =>
  useQuery({
    queryKey: keys.assignment(id),
    queryFn: () => request<Assignment>(`/v1/assignments/${segment(id)}`),
  });

/** Pending approvals: every kind for owners and admins; a member gets the tool requests of runs they started. */
export const useApprovals = () =>
  useQuery({
    queryKey: keys.approvals,
    queryFn: () => orEmpty(() => request<Approval[]>('/v1/approvals?status=pending&limit=1000')),
  });

/** Chains stopped at their limit: all for owners and admins, a member's own (agents: none). */
export const useStoppedChains = () =>
  useQuery({
    queryKey: [...keys.chains, 'stopped'],
    queryFn: () => orEmpty(() => request<ChainSummary[]>('/v1/chains?state=stopped&limit=1000')),
  });

/** The chains the person may see, newest first (for the Assignments chain filter). */
export const useChains = () =>
  useQuery({
    queryKey: [...keys.chains, 'all'],
    queryFn: () => orEmpty(() => request<ChainSummary[]>('/v1/chains?limit=200')),
  });

export const useChain = (id: string) =>
  useQuery({ queryKey: keys.chain(id), queryFn: () => request<Chain>(`/v1/chains/${segment(id)}`) });

export const useMessages = () =>
  useQuery({ queryKey: keys.messages, queryFn: () => request<Message[]>('/v1/messages?limit=500') });

export const useThread = (id: string) =>
  useQuery({
    queryKey: keys.thread(id),
    queryFn: () => request<Message[]>(`/v1/messages${qs({ thread: id, limit: 1000 })}`),
  });

export const useTasks = () =>
  useQuery({ queryKey: keys.tasks, queryFn: () => request<Task[]>('/v1/tasks?limit=1000') });

export const useTask = (id: string) =>
  useQuery({ queryKey: keys.task(id), queryFn: () => request<Task>(`/v1/tasks/${segment(id)}`) });

export const useContextEntries = () =>
  useQuery({ queryKey: keys.context, queryFn: () => request<ContextEntry[]>('/v1/context?limit=10000') });

export const useContextEntry = (key: string, enabled = true) =>
  useQuery({
    queryKey: keys.contextEntry(key),
    queryFn: () => request<ContextEntry>(`/v1/context/${segment(key)}`),
    enabled,
  });

export const useUsers = () =>
  useQuery({ queryKey: keys.users, queryFn: () => orEmpty(() => request<User[]>('/v1/users')) });

export const useTokens = () =>
  useQuery({ queryKey: keys.tokens, queryFn: () => orEmpty(() => request<TokenInfo[]>('/v1/tokens')) });

export const useAudit = () =>
  useQuery({
    queryKey: keys.audit,
    queryFn: () => orEmpty(() => request<AuditEntry[]>('/v1/audit?limit=200')),
  });
