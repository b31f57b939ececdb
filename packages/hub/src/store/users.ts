/** Workspaces and their users (memberships: one person's share a `person_id`). */
import { newId } from '../ids.ts';
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { UserTable, WorkspaceTable } from './schema.ts';

export type UserRow = UserTable;
export type WorkspaceRow = WorkspaceTable;

const byId = prepared((db, a: { id: string }) => db.selectFrom('users').selectAll().where('id', '=', a.id));
const byRef = prepared((db, a: { workspaceId: string; ref: string; handle: string }) =>
  db
    .selectFrom('users')
    .selectAll()
    .where('workspace_id', '=', a.workspaceId)
    .where((eb) => eb.or([eb('id', '=', a.ref), eb('handle', '=', a.handle)])),
);

export class UserRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  async createWorkspace(name: string, now = Date.now()): Promise<WorkspaceRow> {
    const row = { id: newId('ws', now), name, created_at: now };
    await this.db.insertInto('workspaces').values(row).execute();
    return row;
  }

  getWorkspace(id: string): Promise<WorkspaceRow | undefined> {
    return this.db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A workspace by id or by name. */
  findWorkspace(ref: string): Promise<WorkspaceRow | undefined> {
    return this.db
      .selectFrom('workspaces')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
      .executeTakeFirst();
  }

  firstWorkspace(): Promise<WorkspaceRow | undefined> {
    return this.db.selectFrom('workspaces').selectAll().orderBy('created_at').limit(1).executeTakeFirst();
  }

  /** A membership; `personId` makes it another membership of that person (default: a new person). */
  async create(
    workspaceId: string,
    handle: string,
    role: string,
    now = Date.now(),
    personId?: string,
  ): Promise<UserRow> {
    const id = newId('usr', now);
    const row = { id, workspace_id: workspaceId, handle, role, created_at: now, person_id: personId ?? id };
    await this.db.insertInto('users').values(row).execute();
    return row;
  }

  get(id: string): Promise<UserRow | undefined> {
    return byId.first(this.db, this.kind, { id });
  }

  /** A user of a workspace by id, or by handle (`handle`, when the handle is spelled otherwise). */
  find(workspaceId: string, ref: string, handle = ref): Promise<UserRow | undefined> {
    return byRef.first(this.db, this.kind, { workspaceId, ref, handle });
  }

  /** A workspace's users by handle. */
  list(workspaceId: string): Promise<UserRow[]> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('handle')
      .execute();
  }

  /** The person's membership of a workspace, if it has one. */
  membership(workspaceId: string, personId: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('person_id', '=', personId)
      .executeTakeFirst();
  }

  /** The workspaces a person belongs to, by name, with its role in each. */
  workspacesOf(personId: string) {
    return this.db
      .selectFrom('users')
      .innerJoin('workspaces', 'workspaces.id', 'users.workspace_id')
      .select(['workspaces.id', 'workspaces.name', 'workspaces.created_at', 'users.role'])
      .where('users.person_id', '=', personId)
      .orderBy('workspaces.name')
      .execute();
  }

  async countOwners(workspaceId: string): Promise<number> {
    const owners = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .where('role', '=', 'owner')
      .executeTakeFirstOrThrow();
    return Number(owners.n);
  }

  /** Deletes a membership; false when it was already gone. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
