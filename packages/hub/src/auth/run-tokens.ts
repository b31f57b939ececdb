/**
 * Run tokens (DESIGN §6a): a run acts with a `gnt_r_` token the hub mints when it lets the
 * attempt start, bound to that assignment and its agent. It speaks as the agent, and whatever it
 * does is caused by the run; it is good only while the run goes on (the assignment starting,
 * running or being cancelled, at that attempt), and is revoked when the attempt ends.
 */
import { GantryError } from '@gantry/protocol';
import type { Bus } from '../bus.ts';
import type { RunCause } from '../domain/actor.ts';
import type { AssignmentRow, Store, TokenRow } from '../store/store.ts';
import { mintToken } from './tokens.ts';

/** A run token outlives its run's timeout by this much at most (it is revoked at the run's end anyway). */
const slackMs = 5 * 60_000;
const liveStates = new Set(['starting', 'running', 'cancelling']);

/** Mints the token for the attempt the hub is about to let start. */
export async function mintRunToken(store: Store, row: AssignmentRow, now = Date.now()): Promise<string> {
  const minted = mintToken('run');
  await store.tokens.insert({
    id: minted.id,
    kind: 'run',
    owner_id: row.agent_id,
    workspace_id: row.workspace_id,
    secret_hash: minted.secretHash,
    created_at: now,
    expires_at: now + row.timeout_ms + slackMs,
    last_used_at: null,
    revoked_at: null,
    assignment_id: row.id,
  });
  return minted.token;
}

/** The run a run token acts in, while that run goes on; else unauthorized. */
export async function runOf(store: Store, token: TokenRow): Promise<RunCause> {
  const row = token.assignment_id ? await store.assignments.get(token.assignment_id) : undefined;
  if (!row || row.agent_id !== token.owner_id || !liveStates.has(row.state))
    throw new GantryError('unauthorized', 'run token of a run that has ended');
  return { assignmentId: row.id, agentId: row.agent_id, chainId: row.chain_id, depth: row.depth };
}

/** Revokes an assignment's run tokens (its attempt ended) and ends what was opened with them. */
export async function revokeRunTokens(store: Store, bus: Bus, assignmentId: string): Promise<void> {
  const ids = await store.tokens.revokeRun(assignmentId);
  if (ids.length > 0) bus.emit('revoked', { tokenIds: ids });
}
