/**
 * Pass-through folders (DESIGN §5): a gateway registers a folder on its machine that speaks for
 * one agent, with its own token. Each starts pending (an approval of kind `folder`) until an
 * owner or admin decides; once approved, the hub hands that gateway the agent's key when it asks,
 * and the key never goes anywhere else. One folder on one gateway maps to one agent.
 */
import { GantryError, type Approval, type Folder, type RegisterFolder } from '@gantry/protocol';
import { issueToken } from '../auth/authenticate.ts';
import type { Actor } from './actor.ts';
import { requireRole } from '../auth/roles.ts';
import { newId } from '../ids.ts';
import type { FolderTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { ApprovalNotices } from './approval-notices.ts';
import { gatewayApprovalView, iso } from './views.ts';

type FolderRow = FolderTable;

function requireGateway(caller: Actor): void {
  if (caller.kind !== 'gateway') {
    throw new GantryError(
      'forbidden',
      `only a gateway registers pass-through folders, with its own token (you are ${caller.kind} ${caller.name})`,
    );
  }
}

export class Folders {
  constructor(
    private readonly store: Store,
    private readonly notices?: ApprovalNotices,
  ) {}

  /** Registers (or re-asks for) a folder on the caller's gateway; a denied one is asked anew. */
  async register(caller: Actor, input: RegisterFolder): Promise<Folder> {
    requireGateway(caller);
    const known = await this.latest(caller.id, input.workdir);
    if (known) {
      const agent = await this.store.agents.get(known.agent_id);
      if (agent && agent.name !== input.name) {
        throw new GantryError(
          'conflict',
          `${input.workdir} on this machine is already registered as agent '${agent.name}': one folder speaks for one agent`,
        );
      }
      if (known.status !== 'denied') return this.view(known);
    }
    let agent = await this.store.agents.find(caller.workspaceId, input.name);
    if (agent && agent.kind !== 'pass_through') {
      throw new GantryError(
        'conflict',
        `agent '${input.name}' exists and is not a pass-through agent: pick another name`,
      );
    }
    agent ??= await this.store.agents.create(caller.workspaceId, input.name, 'pass_through');
    const now = Date.now();
    const row: FolderRow = {
      id: newId('apv', now),
      workspace_id: caller.workspaceId,
      gateway_id: caller.id,
      agent_id: agent.id,
      workdir: input.workdir,
      hostname: input.host,
      os_user: input.osUser,
      status: 'pending',
      subject: `folder ${input.workdir} on ${input.host} (${input.osUser}) as ${input.name}`.slice(0, 200),
      created_at: now,
      decided_at: null,
      decided_by: null,
      key_issued_at: null,
    };
    await this.store.devices.insertFolder(row);
    await this.store.audit.record({
      workspaceId: caller.workspaceId,
      actor: `gateway:${caller.id}`,
      action: 'folder_requested',
      subject: row.id,
      data: { agentId: agent.id, workdir: row.workdir, hostname: row.hostname, osUser: row.os_user },
    });
    await this.notices?.requested({
      id: row.id,
      workspaceId: row.workspace_id,
      kind: 'folder',
      subject: row.subject,
      agent: { id: agent.id, name: agent.name },
      gatewayId: caller.id,
    });
    return this.view(row);
  }

  /** Where the folder stands; with `needKey`, once approved, a fresh key for its agent (shown once). */
  async connect(caller: Actor, id: string, needKey: boolean): Promise<{ folder: Folder; key?: string }> {
    requireGateway(caller);
    const row = await this.get(id);
    if (!row || row.gateway_id !== caller.id)
      throw new GantryError('not_found', `no folder ${id} on this gateway`);
    const folder = await this.view(row);
    if (row.status !== 'approved' || !needKey) return { folder };
    const key = await issueToken(this.store, 'agent', row.agent_id, row.workspace_id);
    await this.store.devices.folderKeyIssued(id);
    await this.store.audit.record({
      workspaceId: row.workspace_id,
      actor: `gateway:${caller.id}`,
      action: 'folder_key_issued',
      subject: id,
      data: { agentId: row.agent_id, workdir: row.workdir },
    });
    return { folder, key };
  }

  // ---- as approvals (kind `folder`) ------------------------------------------------------------

  /** The folder approvals of the caller's workspace, newest first, as approvals. */
  async approvals(caller: Actor, filter: { status?: string; limit?: number }): Promise<Approval[]> {
    requireRole(caller, 'admin', 'read or decide approvals');
    if (filter.status === 'expired') return [];
    const rows = await this.store.devices.folders(caller.workspaceId, filter);
    return Promise.all(rows.map((row) => this.approvalView(row)));
  }

  /** A folder approval of the caller's workspace, or undefined when `id` is none. */
  async approval(caller: Actor, id: string): Promise<Approval | undefined> {
    requireRole(caller, 'admin', 'read or decide approvals');
    const row = await this.get(id);
    return row && row.workspace_id === caller.workspaceId ? this.approvalView(row) : undefined;
  }

  /** An owner's or admin's decision; denied is final until the folder is registered again. */
  async decide(caller: Actor, id: string, decision: 'approved' | 'denied'): Promise<Approval> {
    requireRole(caller, 'admin', 'read or decide approvals');
    const row = await this.get(id);
    if (!row || row.workspace_id !== caller.workspaceId)
      throw new GantryError('not_found', `no approval ${id}`);
    const now = Date.now();
    if (!(await this.store.devices.decideFolder(id, decision, caller.id, now))) {
      const current = (await this.get(id)) ?? row;
      throw new GantryError(
        'conflict',
        `approval ${id} is already ${current.status} by ${current.decided_by ?? 'someone else'}`,
        { details: { status: current.status } },
      );
    }
    await this.store.audit.record({
      workspaceId: row.workspace_id,
      actor: `user:${caller.id}`,
      action: `approval_${decision}`,
      subject: id,
      data: { kind: 'folder', agentId: row.agent_id, gatewayId: row.gateway_id, subject: row.subject },
    });
    return this.approvalView({ ...row, status: decision, decided_at: now, decided_by: caller.id });
  }

  private get(id: string): Promise<FolderRow | undefined> {
    return this.store.devices.folder(id);
  }

  private latest(gatewayId: string, workdir: string): Promise<FolderRow | undefined> {
    return this.store.devices.latestFolder(gatewayId, workdir);
  }

  private async agentOf(row: FolderRow) {
    const agent = await this.store.agents.get(row.agent_id);
    return { id: row.agent_id, name: agent?.name ?? row.agent_id };
  }

  private async view(row: FolderRow): Promise<Folder> {
    return {
      id: row.id,
      agent: await this.agentOf(row),
      gatewayId: row.gateway_id,
      workdir: row.workdir,
      host: row.hostname,
      osUser: row.os_user,
      status: row.status === 'approved' ? 'connected' : row.status === 'denied' ? 'denied' : 'pending',
      approvalId: row.id,
      createdAt: iso(row.created_at) as string,
    };
  }

  private async approvalView(row: FolderRow): Promise<Approval> {
    return gatewayApprovalView({ ...row, kind: 'folder' }, await this.agentOf(row), row.workdir);
  }
}
