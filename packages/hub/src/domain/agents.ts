/** Agents and gateways of a workspace: creation, keys, attachment, and their JSON views. */
import {
  GantryError,
  type Agent,
  type Gateway,
  type GatewayConnect,
  type GatewayConnectResult,
} from '@gantry/protocol';
import { authenticate, issueToken } from '../auth/authenticate.ts';
import type { Actor } from './actor.ts';
import { requireRole } from '../auth/roles.ts';
import type { Links } from '../dispatch/links.ts';
import type { AgentRow, Store } from '../store/store.ts';
import type { Devices } from './devices.ts';
import { iso } from './views.ts';

/** The agent that runs an assignment: a managed one, named or by id, in the workspace. */
export async function runnableAgent(store: Store, workspaceId: string, ref: string): Promise<AgentRow> {
  const agent = await store.agents.find(workspaceId, ref);
  if (!agent) throw new GantryError('not_found', `no agent named or with id '${ref}'`);
  if (agent.kind === 'managed') return agent;
  throw new GantryError(
    'invalid_request',
    agent.kind === 'service'
      ? `agent '${agent.name}' is a service account: it sends messages but never runs anything`
      : `agent '${agent.name}' is ${agent.kind}: it does not run assignments`,
  );
}

export async function createAgent(
  store: Store,
  caller: Actor,
  input: { name: string; kind?: Agent['kind'] },
): Promise<{ agent: Agent; key: string }> {
  requireRole(caller, 'admin', 'create agents');
  if (await store.agents.find(caller.workspaceId, input.name)) {
    throw new GantryError('conflict', `an agent named '${input.name}' already exists`);
  }
  const row = await store.agents.create(caller.workspaceId, input.name, input.kind ?? 'managed');
  const key = await issueToken(store, 'agent', row.id, caller.workspaceId);
  return { agent: (await agentViews(store, [row]))[0] as Agent, key };
}

export async function findAgentOrThrow(store: Store, caller: Actor, ref: string): Promise<AgentRow> {
  const agent = await store.agents.find(caller.workspaceId, ref);
  if (!agent) throw new GantryError('not_found', `no agent named or with id '${ref}'`);
  return agent;
}

export async function agentViews(store: Store, rows: AgentRow[]): Promise<Agent[]> {
  const gateways = await store.gateways.ofAgents(rows.map((r) => r.id));
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    kind: row.kind as Agent['kind'],
    workspaceId: row.workspace_id,
    createdAt: iso(row.created_at) as string,
    gateways: gateways
      .filter((g) => g.agentId === row.id)
      .map((g) => ({ id: g.id, name: g.name, connected: g.connected === 1 })),
    paused: row.paused === 1,
    template: row.template ?? null,
  }));
}

/**
 * `gateway connect`: an agent key registers this machine's gateway, or re-attaches to the one it
 * proves it has (gateway id + token + the same device key), and the agent is attached to it. The
 * answer says whether the device is trusted for the agent or waits for approval.
 */
export async function connectGateway(
  store: Store,
  caller: Actor,
  input: GatewayConnect,
  devices: Devices,
): Promise<GatewayConnectResult> {
  if (caller.kind !== 'agent') {
    throw new GantryError('forbidden', 'gateway connect needs an agent key (gnt_a_...)');
  }
  const workspace = await store.users.getWorkspace(caller.workspaceId);
  if (!workspace) throw new GantryError('not_found', 'workspace not found');
  let gateway = input.gatewayId ? await store.gateways.get(input.gatewayId) : undefined;
  if (gateway) {
    const proof = input.gatewayToken
      ? await authenticate(store, input.gatewayToken).catch(() => undefined)
      : undefined;
    if (
      proof?.kind !== 'gateway' ||
      proof.id !== gateway.id ||
      gateway.workspace_id !== caller.workspaceId ||
      !(await devices.keyMatches(gateway.id, input.publicKey))
    ) {
      gateway = undefined; // not proven: register a new gateway rather than take over another
    }
  }
  let gatewayToken: string | undefined;
  if (!gateway) {
    gateway = await store.gateways.create(caller.workspaceId, input.name, input.hostname ?? null);
    gatewayToken = await issueToken(store, 'gateway', gateway.id, caller.workspaceId);
  } else if (gateway.name !== input.name) {
    await store.gateways.update(gateway.id, { name: input.name });
  }
  await store.gateways.attach(gateway.id, caller.id, input.provider);
  const fingerprint = await devices.record(gateway, input);
  const agent = await store.agents.get(caller.id);
  if (!agent) throw new GantryError('not_found', 'agent not found');
  const trust = await devices.trustAfterConnect(gateway, agent, fingerprint);
  return {
    workspace: { id: workspace.id, name: workspace.name },
    agent: { id: caller.id, name: caller.name },
    gateway: { id: gateway.id, name: input.name },
    ...(gatewayToken ? { gatewayToken } : {}),
    trust,
  };
}

export async function gatewayViews(store: Store, links: Links, workspaceId: string): Promise<Gateway[]> {
  const rows = await store.gateways.list(workspaceId);
  const agents = await store.gateways.agentsOf(rows.map((r) => r.id));
  const held = await Promise.all(rows.map((r) => store.assignments.heldBy(r.id)));
  return rows.map((row, i) => ({
    id: row.id,
    name: row.name,
    workspaceId: row.workspace_id,
    // Here, or on another living hub of the system (the store's view: hub-instances.ts).
    connected: links.isConnected(row.id) || row.connected === 1,
    lastSeenAt: iso(row.last_seen_at),
    hostname: row.hostname,
    version: row.version,
    agents: agents
      .filter((a) => a.gatewayId === row.id)
      .map((a) => ({ id: a.id, name: a.name, provider: a.provider })),
    runningAttempts: (held[i] ?? []).filter((a) => a.state !== 'offered').length,
    createdAt: iso(row.created_at) as string,
  }));
}
