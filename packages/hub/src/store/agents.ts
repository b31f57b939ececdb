/** Agents of a workspace: managed, pass-through or service; removed ones stay while history refers to them. */
import { newId } from '../ids.ts';
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { AgentTable } from './schema.ts';

export type AgentRow = AgentTable;

const byId = prepared((db, a: { id: string }) => db.selectFrom('agents').selectAll().where('id', '=', a.id));
const byRef = prepared((db, a: { workspaceId: string; ref: string }) =>
  db
    .selectFrom('agents')
    .selectAll()
    .where('workspace_id', '=', a.workspaceId)
    .where('removed_at', 'is', null)
    .where((eb) => eb.or([eb('id', '=', a.ref), eb('name', '=', a.ref)])),
);

export class AgentRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  async create(
    workspaceId: string,
    name: string,
    kind: string,
    now = Date.now(),
    template: string | null = null,
  ): Promise<AgentRow> {
    const id = newId('agt', now);
    const row = {
      id,
      workspace_id: workspaceId,
      name,
      kind,
      created_at: now,
      paused: 0,
      template,
      removed_at: null,
    };
    await this.db.insertInto('agents').values(row).execute();
    return row;
  }

  /** An agent by id or by name, within one workspace. */
  find(workspaceId: string, ref: string): Promise<AgentRow | undefined> {
    return byRef.first(this.db, this.kind, { workspaceId, ref });
  }

  get(id: string): Promise<AgentRow | undefined> {
    return byId.first(this.db, this.kind, { id });
  }

  list(workspaceId: string): Promise<AgentRow[]> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('removed_at', 'is', null)
      .orderBy('name')
      .execute();
  }

  /** A removed agent's row, by name: its name stays taken while history refers to it. */
  findRemoved(workspaceId: string, name: string): Promise<AgentRow | undefined> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .where('removed_at', 'is not', null)
      .executeTakeFirst();
  }

  /** Pauses or resumes; false when it already was so. */
  async setPaused(id: string, paused: boolean): Promise<boolean> {
    const changed = await this.db
      .updateTable('agents')
      .set({ paused: paused ? 1 : 0 })
      .where('id', '=', id)
      .where('paused', '=', paused ? 0 : 1)
      .executeTakeFirst();
    return Number(changed.numUpdatedRows) === 1;
  }

  /** Whether anything kept for history (work, mail, tasks, tool approvals) refers to an agent. */
  async referenced(agentId: string): Promise<boolean> {
    const db = this.db;
    const checks: (() => Promise<unknown>)[] = [
      () => db.selectFrom('assignments').select('id').where('agent_id', '=', agentId).executeTakeFirst(),
      () => db.selectFrom('messages').select('id').where('author_id', '=', agentId).executeTakeFirst(),
      () => db.selectFrom('mailbox').select('seq').where('recipient_id', '=', agentId).executeTakeFirst(),
      () =>
        db
          .selectFrom('tasks')
          .select('id')
          .where((eb) => eb.or([eb('assignee_id', '=', agentId), eb('created_by_id', '=', agentId)]))
          .executeTakeFirst(),
      () => db.selectFrom('approvals').select('id').where('agent_id', '=', agentId).executeTakeFirst(),
      () => db.selectFrom('work').select('trigger_id').where('agent_id', '=', agentId).executeTakeFirst(),
    ];
    for (const check of checks) if (await check()) return true;
    return false;
  }

  /** Deletes an agent nothing refers to, with its tokens and device grants (the audit log keeps those). */
  async delete(agentId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('tokens').where('owner_id', '=', agentId).execute();
      await tx.deleteFrom('device_grants').where('agent_id', '=', agentId).execute();
      await tx.deleteFrom('gateway_agents').where('agent_id', '=', agentId).execute();
      await tx.deleteFrom('agents').where('id', '=', agentId).execute();
    });
  }

  async markRemoved(agentId: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('agents').set({ removed_at: now }).where('id', '=', agentId).execute();
  }
}
