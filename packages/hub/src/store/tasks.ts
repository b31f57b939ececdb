/** Tasks of a workspace, and the names of the parties they name. */
import type { Party } from '@gantry/protocol';
import type { Db, StoreKind } from './db.ts';
import type { TaskTable } from './schema.ts';

export type TaskRow = TaskTable;

export class TaskRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  async insert(row: TaskRow): Promise<void> {
    await this.db.insertInto('tasks').values(row).execute();
  }

  /** A task by id, within a workspace when one is given. */
  get(id: string, workspaceId?: string): Promise<TaskRow | undefined> {
    let query = this.db.selectFrom('tasks').selectAll().where('id', '=', id);
    if (workspaceId !== undefined) query = query.where('workspace_id', '=', workspaceId);
    return query.executeTakeFirst();
  }

  /** The task, locked until the transaction this runs in ends (PostgreSQL; SQLite has one writer). */
  forUpdate(workspaceId: string, id: string): Promise<TaskRow | undefined> {
    return this.db
      .selectFrom('tasks')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .$if(this.kind === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
  }

  /** Most recently changed first; `assigneeId` and `status` narrow it. */
  list(workspaceId: string, filter: { assigneeId?: string; status?: string; limit?: number } = {}) {
    let q = this.db
      .selectFrom('tasks')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.assigneeId !== undefined) q = q.where('assignee_id', '=', filter.assigneeId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    return q.execute();
  }

  async update(id: string, patch: Partial<TaskRow>): Promise<void> {
    await this.db.updateTable('tasks').set(patch).where('id', '=', id).execute();
  }

  /** The agents and users among `ids` in the workspace, as parties. */
  async parties(workspaceId: string, ids: readonly string[]): Promise<Map<string, Party>> {
    const parties = new Map<string, Party>();
    if (ids.length === 0) return parties;
    const agents = await this.db
      .selectFrom('agents')
      .select(['id', 'name'])
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', [...ids])
      .execute();
    for (const a of agents) parties.set(a.id, { kind: 'agent', id: a.id, name: a.name });
    const users = await this.db
      .selectFrom('users')
      .select(['id', 'handle'])
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', [...ids])
      .execute();
    for (const u of users) parties.set(u.id, { kind: 'user', id: u.id, name: u.handle });
    return parties;
  }
}
