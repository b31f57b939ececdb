/** Gateways of a workspace and the agents attached to each (with the provider it serves them with). */
import { sql } from 'kysely';
import { newId } from '../ids.ts';
import type { Db } from './db.ts';

export interface GatewayTable {
  id: string;
  workspace_id: string;
  name: string;
  hostname: string | null;
  version: string | null;
  /** Set while a hub holds its socket; read as set only while `hub_instance` lives (below). */
  connected: number;
  last_seen_at: number | null;
  created_at: number;
  /** The hub instance holding its socket (`0025_hub_instances`), null when none. */
  hub_instance: string | null;
}

export type GatewayRow = GatewayTable;

/**
 * `connected` as read: set, and the hub instance holding the socket is alive now (hub-instances.ts),
 * so a gateway of a hub that was killed reads disconnected once that hub's row expires.
 */
function liveConnected(now: number) {
  return sql<number>`(case when gateways.connected = 1 and exists (select 1 from hub_instances where hub_instances.id = gateways.hub_instance and hub_instances.expires_at > ${now}) then 1 else 0 end)`;
}

const columns = [
  'gateways.id',
  'gateways.workspace_id',
  'gateways.name',
  'gateways.hostname',
  'gateways.version',
  'gateways.last_seen_at',
  'gateways.created_at',
  'gateways.hub_instance',
] as const;

export class GatewayRepository {
  constructor(private readonly db: Db) {}

  async create(workspaceId: string, name: string, hostname: string | null, now = Date.now()) {
    const row: GatewayRow = {
      id: newId('gw', now),
      workspace_id: workspaceId,
      name,
      hostname,
      version: null,
      connected: 0,
      last_seen_at: null,
      created_at: now,
      hub_instance: null,
    };
    await this.db.insertInto('gateways').values(row).execute();
    return row;
  }

  get(id: string, now = Date.now()): Promise<GatewayRow | undefined> {
    return this.db
      .selectFrom('gateways')
      .select([...columns, liveConnected(now).as('connected')])
      .where('id', '=', id)
      .executeTakeFirst();
  }

  list(workspaceId: string, now = Date.now()): Promise<GatewayRow[]> {
    return this.db
      .selectFrom('gateways')
      .select([...columns, liveConnected(now).as('connected')])
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at')
      .execute();
  }

  async update(id: string, patch: Partial<Omit<GatewayRow, 'id' | 'workspace_id'>>): Promise<void> {
    await this.db.updateTable('gateways').set(patch).where('id', '=', id).execute();
  }

  /** Many gateways were heard from at `now` (batched with their lease renewals), 500 per statement. */
  async seen(ids: string[], now: number): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      await this.db
        .updateTable('gateways')
        .set({ last_seen_at: now })
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
    }
  }

  /** The hub instance `instance` holds the gateway's socket now (its hello was served there). */
  async connect(
    id: string,
    instance: string,
    patch: Partial<Pick<GatewayRow, 'last_seen_at' | 'version' | 'hostname'>> = {},
  ): Promise<void> {
    await this.db
      .updateTable('gateways')
      .set({ ...patch, connected: 1, hub_instance: instance })
      .where('id', '=', id)
      .execute();
  }

  /**
   * The socket `instance` held closed: disconnected, unless the gateway already reconnected to
   * another hub (a compare-and-set on the holder). True when this instance still held it.
   */
  async disconnect(id: string, instance: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('gateways')
      .set({ connected: 0, hub_instance: null, last_seen_at: now })
      .where('id', '=', id)
      .where('hub_instance', '=', instance)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Claims back sockets `instance` holds whose rows were cleared (it was taken for dead a moment). */
  async reclaim(ids: string[], instance: string): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      await this.db
        .updateTable('gateways')
        .set({ connected: 1, hub_instance: instance })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('hub_instance', 'is', null)
        .execute();
    }
  }

  async attach(gatewayId: string, agentId: string, provider: string | null, now = Date.now()) {
    await this.db
      .insertInto('gateway_agents')
      .values({ gateway_id: gatewayId, agent_id: agentId, provider, created_at: now })
      .onConflict((oc) => oc.columns(['gateway_id', 'agent_id']).doUpdateSet({ provider }))
      .execute();
  }

  async detach(gatewayId: string, agentId: string): Promise<void> {
    await this.db
      .deleteFrom('gateway_agents')
      .where('gateway_id', '=', gatewayId)
      .where('agent_id', '=', agentId)
      .execute();
  }

  /** Agents attached to the given gateways, with the provider each was connected with. */
  agentsOf(gatewayIds: string[]) {
    if (gatewayIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('gateway_agents')
      .innerJoin('agents', 'agents.id', 'gateway_agents.agent_id')
      .select([
        'gateway_agents.gateway_id as gatewayId',
        'agents.id as id',
        'agents.name as name',
        'gateway_agents.provider as provider',
      ])
      .where('gateway_agents.gateway_id', 'in', gatewayIds)
      .orderBy('agents.name')
      .execute();
  }

  /** Gateways the given agents are attached to (`connected` as `get` reads it). */
  ofAgents(agentIds: string[], now = Date.now()) {
    if (agentIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('gateway_agents')
      .innerJoin('gateways', 'gateways.id', 'gateway_agents.gateway_id')
      .select([
        'gateway_agents.agent_id as agentId',
        'gateways.id as id',
        'gateways.name as name',
        liveConnected(now).as('connected'),
      ])
      .where('gateway_agents.agent_id', 'in', agentIds)
      .orderBy('gateways.name')
      .execute();
  }
}
