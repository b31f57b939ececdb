/**
 * Which gateway may speak for which agent: gateways' device keys, the grants of trust per agent at
 * a fingerprint (each an approval), and pass-through folders (each an approval of kind `folder`).
 */
import type { Db } from './db.ts';
import type { DeviceGrantTable, DeviceTable, FolderTable } from './schema.ts';

export type DeviceRow = DeviceTable;
export type GrantRow = DeviceGrantTable;
export type FolderRow = FolderTable;

/** Grants recorded without asking anyone (trust on first use, a known device): not approvals. */
const unasked = ['trust_on_first_use', 'same_device'];

export class DeviceRepository {
  constructor(private readonly db: Db) {}

  get(gatewayId: string): Promise<DeviceRow | undefined> {
    return this.db.selectFrom('devices').selectAll().where('gateway_id', '=', gatewayId).executeTakeFirst();
  }

  async insert(row: DeviceRow): Promise<void> {
    await this.db.insertInto('devices').values(row).execute();
  }

  /** The host and user a person approved become the device's recorded ones. */
  async setHost(gatewayId: string, hostname: string, osUser: string, now = Date.now()): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ hostname, os_user: osUser, updated_at: now })
      .where('gateway_id', '=', gatewayId)
      .execute();
  }

  // ---- grants ----------------------------------------------------------------------------------

  async insertGrant(row: GrantRow): Promise<void> {
    await this.db.insertInto('device_grants').values(row).execute();
  }

  grant(id: string): Promise<GrantRow | undefined> {
    return this.db.selectFrom('device_grants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** An agent's grants on every gateway, newest first. */
  grantsOfAgent(agentId: string): Promise<GrantRow[]> {
    return this.db
      .selectFrom('device_grants')
      .selectAll()
      .where('agent_id', '=', agentId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  /** A gateway's grants, oldest first. */
  grantsOfGateway(gatewayId: string): Promise<GrantRow[]> {
    return this.db
      .selectFrom('device_grants')
      .selectAll()
      .where('gateway_id', '=', gatewayId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
  }

  /** Grants someone was asked about, newest first. */
  approvals(workspaceId: string, filter: { status?: string; limit?: number }): Promise<GrantRow[]> {
    let query = this.db
      .selectFrom('device_grants')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where((eb) => eb.or([eb('decided_by', 'is', null), eb('decided_by', 'not in', unasked)]));
    if (filter.status) query = query.where('status', '=', filter.status);
    return query
      .orderBy('created_at', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
  }

  /** Decides a pending grant (compare-and-set); false when it was no longer pending. */
  async decideGrant(id: string, status: string, by: string, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('device_grants')
      .set({ status, decided_at: now, decided_by: by })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  // ---- folders ---------------------------------------------------------------------------------

  async insertFolder(row: FolderRow): Promise<void> {
    await this.db.insertInto('folders').values(row).execute();
  }

  folder(id: string): Promise<FolderRow | undefined> {
    return this.db.selectFrom('folders').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The newest registration of a folder on a gateway. */
  latestFolder(gatewayId: string, workdir: string): Promise<FolderRow | undefined> {
    return this.db
      .selectFrom('folders')
      .selectAll()
      .where('gateway_id', '=', gatewayId)
      .where('workdir', '=', workdir)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  folders(workspaceId: string, filter: { status?: string; limit?: number }): Promise<FolderRow[]> {
    let q = this.db
      .selectFrom('folders')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.status) q = q.where('status', '=', filter.status);
    return q.execute();
  }

  /** Decides a pending folder (compare-and-set); false when it was no longer pending. */
  async decideFolder(id: string, status: string, by: string, now = Date.now()): Promise<boolean> {
    const updated = await this.db
      .updateTable('folders')
      .set({ status, decided_at: now, decided_by: by })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async folderKeyIssued(id: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('folders').set({ key_issued_at: now }).where('id', '=', id).execute();
  }
}
