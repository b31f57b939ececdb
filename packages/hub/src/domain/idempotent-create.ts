/**
 * `Idempotency-Key` on `POST /v1/assignments` (issue 15): a client that retries a create (its hub
 * died before it answered) gets the assignment its first request made, never a twin. The key's
 * row is claimed first, naming the id the assignment will have; whoever finds the key claimed
 * creates that same id if it is missing (its first request died in between), and the store's
 * primary keys let exactly one insert win, on one hub or several over one PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { GantryError, type CreateAssignment } from '@gantry/protocol';
import { newId } from '../ids.ts';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { Actor } from './actor.ts';
import type { Assignments } from './assignments.ts';

/** How long a key names its assignment; after that it may be used again. */
export const idempotencyWindowMs = 24 * 60 * 60 * 1000;

export interface CreatedOnce {
  row: AssignmentRow;
  /** The key had been used: `row` is the assignment its first request made. */
  replayed: boolean;
}

export async function createOnce(
  deps: { store: Store; assignments: Assignments },
  caller: Actor,
  input: CreateAssignment,
  key: string,
  now = Date.now(),
): Promise<CreatedOnce> {
  const { store, assignments } = deps;
  const fingerprint = fingerprintOf(caller, input);
  const notBefore = now - idempotencyWindowMs;
  const id = newId('asg');
  const claim = { workspace_id: caller.workspaceId, key, fingerprint, assignment_id: id, created_at: now };
  if (await store.idempotencyKeys.claim(claim, notBefore)) {
    try {
      return { row: await assignments.create(caller, input, undefined, id), replayed: false };
    } catch (err) {
      // Nothing was made (an unknown agent, say): the same key may carry the corrected request.
      if (!(await store.assignments.get(id)))
        await store.idempotencyKeys.release(caller.workspaceId, key, id);
      throw err;
    }
  }
  const held = await store.idempotencyKeys.find(caller.workspaceId, key, notBefore);
  // Released or lapsed since the claim failed: claim again.
  if (!held) return createOnce(deps, caller, input, key, now);
  if (held.fingerprint !== fingerprint) {
    throw new GantryError(
      'conflict',
      `Idempotency-Key '${key}' was already used in this workspace for a different request; use a new key for a new assignment`,
    );
  }
  const row =
    (await store.assignments.get(held.assignment_id)) ??
    (await assignments.create(caller, input, undefined, held.assignment_id));
  return { row, replayed: true };
}

/** The request and who sent it (a run's request is its run's own). */
function fingerprintOf(caller: Actor, input: CreateAssignment): string {
  const who = `${caller.kind}:${caller.id}:${caller.run?.assignmentId ?? ''}`;
  return createHash('sha256')
    .update(JSON.stringify([who, sorted(input)]))
    .digest('base64url');
}

function sorted(value: Record<string, unknown>): [string, unknown][] {
  return Object.keys(value)
    .sort()
    .map((k) => [k, value[k]]);
}
