/** Gateways of a workspace and the agents attached to each (with the provider it serves them with). */
import { newId } from '../ids.ts';
import type { Db } from './db.ts';
import type { GatewayTable } from './schema.ts';

export type GatewayRow = GatewayTable;

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
    };
    await this.db.insertInto('gateways').values(row).execute();
    return row;
  }

  get(id: string): Promise<GatewayRow | undefined> {
    return this.db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(workspaceId: string): Promise<GatewayRow[]> {
    return this.db
      .selectFrom('gateways')
      .selectAll()
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

  /** Marks every gateway disconnected: a starting hub holds no connections yet. */
  async disconnectAll(): Promise<void> {
    await this.db.updateTable('gateways').set({ connected: 0 }).where('connected', '=', 1).execute();
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

  /** Gateways the given agents are attached to. */
  ofAgents(agentIds: string[]) {
    if (agentIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('gateway_agents')
      .innerJoin('gateways', 'gateways.id', 'gateway_agents.gateway_id')
      .select([
        'gateway_agents.agent_id as agentId',
        'gateways.id as id',
        'gateways.name as name',
        'gateways.connected as connected',
      ])
      .where('gateway_agents.agent_id', 'in', agentIds)
      .orderBy('gateways.name')
      .execute();
  }
}
