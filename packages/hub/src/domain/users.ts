/**
 * Users, roles and workspaces (DESIGN §5). A `users` row is one membership: a handle and a role in
 * one workspace. A person's memberships share a `person_id`, so one login acts in each of its
 * workspaces: its token names the membership it was minted for, and `X-Gantry-Workspace` moves a
 * request to the same person's membership in another workspace (`actInWorkspace`).
 */
import { GantryError, type User, type Workspace } from '@gantry/protocol';
import { issueToken } from '../auth/authenticate.ts';
import type { Actor } from './actor.ts';
import { requireMayManage, requireRole, type Role } from '../auth/roles.ts';
import type { Bus } from '../bus.ts';
import type { Store, UserRow, WorkspaceRow } from '../store/store.ts';
import { revokeWhere } from './tokens.ts';

export interface UserDeps {
  store: Store;
  bus: Bus;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function userView(row: UserRow): User {
  return {
    id: row.id,
    handle: row.handle,
    role: row.role as Role,
    workspaceId: row.workspace_id,
    createdAt: iso(row.created_at),
  };
}

function findWorkspace(store: Store, ref: string): Promise<WorkspaceRow | undefined> {
  return store.users.findWorkspace(ref);
}

function findUser(store: Store, workspaceId: string, ref: string): Promise<UserRow | undefined> {
  return store.users.find(workspaceId, ref);
}

/** The caller as the same person's member of workspace `ref` (a name or id); unchanged without one. */
export async function actInWorkspace<A extends Actor>(
  store: Store,
  caller: A,
  ref: string | undefined,
): Promise<A> {
  if (!ref || ref === caller.workspaceId) return caller;
  const workspace = await findWorkspace(store, ref);
  if (workspace?.id === caller.workspaceId) return caller;
  if (caller.kind !== 'user')
    throw new GantryError('forbidden', `a ${caller.kind} credential acts only in its own workspace`);
  const me = await store.users.get(caller.id);
  const member = workspace && me && (await store.users.membership(workspace.id, me.person_id));
  if (!member) throw new GantryError('forbidden', `you are not a member of workspace '${ref}'`);
  return {
    ...caller,
    id: member.id,
    name: member.handle,
    role: member.role,
    workspaceId: member.workspace_id,
  };
}

export async function listUsers(store: Store, caller: Actor): Promise<User[]> {
  requireRole(caller, 'member', 'list users');
  return (await store.users.list(caller.workspaceId)).map(userView);
}

/** Adds a user to the caller's workspace and mints its first token (returned once). */
export async function addUser(
  store: Store,
  caller: Actor,
  input: { handle: string; role?: Role },
): Promise<{ user: User; token: string }> {
  const role = input.role ?? 'member';
  requireMayManage(caller, role, role === 'owner' ? 'add an owner' : 'add users');
  if (await findUser(store, caller.workspaceId, input.handle))
    throw new GantryError('conflict', `user '${input.handle}' already exists in this workspace`);
  const clash = await store.agents.find(caller.workspaceId, input.handle);
  if (clash)
    throw new GantryError('conflict', `'${input.handle}' is already an agent's name in this workspace`);
  const now = Date.now();
  const row = await store.users.create(caller.workspaceId, input.handle, role, now);
  const token = await issueToken(store, 'user', row.id, caller.workspaceId, now);
  await store.audit.record({
    workspaceId: caller.workspaceId,
    actor: `user:${caller.id}`,
    action: 'user_added',
    subject: row.id,
    data: { handle: row.handle, role },
  });
  return { user: userView(row), token };
}

/** Removes a membership and revokes its tokens; the workspace's last owner stays. */
export async function removeUser(deps: UserDeps, caller: Actor, ref: string): Promise<User> {
  requireRole(caller, 'admin', 'remove users');
  const row = await findUser(deps.store, caller.workspaceId, ref);
  if (!row) throw new GantryError('not_found', `no user '${ref}' in this workspace`);
  requireMayManage(caller, row.role as Role, 'remove an owner');
  const removed = await deps.store.transaction(async (tx) => {
    if (row.role === 'owner') {
      if ((await tx.users.countOwners(caller.workspaceId)) <= 1)
        throw new GantryError(
          'conflict',
          `'${row.handle}' is the workspace's last owner and cannot be removed`,
        );
    }
    return tx.users.delete(row.id);
  });
  if (!removed) throw new GantryError('not_found', `no user '${ref}' in this workspace`);
  await revokeWhere(deps, { ownerId: row.id, kind: 'user' });
  await deps.store.audit.record({
    workspaceId: caller.workspaceId,
    actor: `user:${caller.id}`,
    action: 'user_removed',
    subject: row.id,
    data: { handle: row.handle, role: row.role },
  });
  return userView(row);
}

/** The workspaces the caller's person belongs to, with its role in each. */
export async function listWorkspaces(store: Store, caller: Actor): Promise<Workspace[]> {
  if (caller.kind !== 'user') {
    const own = await store.users.getWorkspace(caller.workspaceId);
    return own ? [workspaceView(own, null, true)] : [];
  }
  const me = await store.users.get(caller.id);
  if (!me) return [];
  const rows = await store.users.workspacesOf(me.person_id);
  return rows.map((r) => workspaceView(r, r.role as Role, r.id === caller.workspaceId));
}

/** A new workspace with the caller (a user) as its owner, and a token for that membership. */
export async function createWorkspace(
  store: Store,
  caller: Actor,
  name: string,
): Promise<{ workspace: Workspace; user: User; token: string }> {
  requireRole(caller, 'member', 'create workspaces');
  if (await findWorkspace(store, name))
    throw new GantryError('conflict', `workspace '${name}' already exists`);
  const me = await store.users.get(caller.id);
  if (!me) throw new GantryError('unauthorized', 'your user no longer exists');
  const now = Date.now();
  const workspace = await store.users.createWorkspace(name, now).catch((err: unknown) => {
    throw new GantryError('conflict', `workspace '${name}' already exists`, { cause: err });
  });
  const owner = await store.users.create(workspace.id, me.handle, 'owner', now, me.person_id);
  const token = await issueToken(store, 'user', owner.id, workspace.id, now);
  await store.audit.record({
    workspaceId: workspace.id,
    actor: `user:${owner.id}`,
    action: 'workspace_created',
    subject: workspace.id,
    data: { name, by: { workspaceId: caller.workspaceId, userId: caller.id } },
  });
  return { workspace: workspaceView(workspace, 'owner', false), user: userView(owner), token };
}

function workspaceView(
  row: Pick<WorkspaceRow, 'id' | 'name' | 'created_at'>,
  role: Role | null,
  current: boolean,
): Workspace {
  return { id: row.id, name: row.name, role, current, createdAt: iso(row.created_at) };
}
