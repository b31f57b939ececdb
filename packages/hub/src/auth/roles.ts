/**
 * Who may do what (DESIGN §5), in one place: a user acts by its role in the workspace (owner >
 * admin > member); an agent key or a gateway token never manages users, tokens or approvals.
 */
import { GantryError } from '@gantry/protocol';
import type { Actor } from '../domain/actor.ts';

export const roles = ['owner', 'admin', 'member'] as const;
export type Role = (typeof roles)[number];

const rank: Record<Role, number> = { owner: 3, admin: 2, member: 1 };

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

/** Whether the caller is a user with at least `role`. */
export function hasRole(caller: Actor, role: Role): boolean {
  return caller.kind === 'user' && rank[(caller.role ?? '') as Role] >= rank[role];
}

/** Throws `forbidden` unless the caller is a user with at least `role`; `what` says what was refused. */
export function requireRole(caller: Actor, role: Role, what: string): void {
  if (caller.kind !== 'user')
    throw new GantryError('forbidden', `only a user can ${what} (you are ${caller.kind} ${caller.name})`);
  if (!hasRole(caller, role)) {
    const who = role === 'owner' ? 'an owner' : 'an owner or admin';
    throw new GantryError(
      'forbidden',
      `only ${who} can ${what} (you are ${caller.role ?? 'no role'} ${caller.name})`,
    );
  }
}

/** Roles `caller` may give or take away: an admin manages admins and members, never owners. */
export function requireMayManage(caller: Actor, role: Role, what: string): void {
  requireRole(caller, role === 'owner' ? 'owner' : 'admin', what);
}

/**
 * Throws `forbidden` for a gateway token: it connects gateways, registers folders and speaks on its
 * WebSocket, nothing else (DESIGN §5). `what` says what was refused.
 */
export function refuseGateway(caller: Actor, what: string): void {
  if (caller.kind === 'gateway')
    throw new GantryError('forbidden', `a gateway token cannot ${what}: use a user token or an agent key`);
}
