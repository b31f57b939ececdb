/**
 * Assignments and their lifecycle as compare-and-set transitions (DESIGN §3): who holds which
 * attempt, under which offer and lease.
 */
import { terminalStates, type AssignmentState } from '@gantry/protocol';
import { newId } from '../ids.ts';
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { AssignmentTable } from './schema.ts';

export type AssignmentRow = AssignmentTable;

/** Who must hold the attempt for a transition to apply. */
type Guard = { gatewayId?: string; attempt?: number; offerId?: string };

export interface NewAssignment {
  workspaceId: string;
  agentId: string;
  prompt: string;
  sessionKey: string;
  mode: string;
  resumeFallback: string;
  timeoutMs: number;
  retries: number;
  createdBy: string;
  /** Its own id, when the caller needs it first (a root names its chain after itself). */
  id?: string;
  chainId?: string;
  /** Default 1: a run a person started directly. */
  depth?: number;
  /** The run whose action started it. */
  causeId?: string | null;
}

export type AssignmentPatch = Partial<
  Omit<AssignmentTable, 'id' | 'workspace_id' | 'agent_id' | 'created_at'>
>;

/** Read for every frame a gateway sends and every wake of an event stream: built once. */
const byId = prepared((db, a: { id: string }) =>
  db.selectFrom('assignments').selectAll().where('id', '=', a.id),
);

export class AssignmentRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  async create(input: NewAssignment, now = Date.now()): Promise<AssignmentRow> {
    const row = newRow(input, now);
    await this.db.insertInto('assignments').values(row).execute();
    return row;
  }

  /** Creates `input.id` unless an assignment with that id exists (then undefined). */
  async createIfAbsent(input: NewAssignment & { id: string }, now = Date.now()) {
    const row = newRow(input, now);
    const made = await this.db
      .insertInto('assignments')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return made ? row : undefined;
  }

  get(id: string): Promise<AssignmentRow | undefined> {
    return byId.first(this.db, this.kind, { id });
  }

  /** Assignments not ended yet (queued to cancelling, `lost` included), oldest first. */
  unfinished(
    workspaceId: string,
    filter: { agentIds?: readonly string[]; chainId?: string } = {},
  ): Promise<AssignmentRow[]> {
    if (filter.agentIds?.length === 0) return Promise.resolve([]);
    let query = this.db
      .selectFrom('assignments')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('state', 'not in', [...terminalStates]);
    if (filter.agentIds) query = query.where('agent_id', 'in', [...filter.agentIds]);
    if (filter.chainId) query = query.where('chain_id', '=', filter.chainId);
    return query.orderBy('created_at').orderBy('id').execute();
  }

  list(
    workspaceId: string,
    filter: { agentId?: string; state?: string; chainId?: string; limit?: number } = {},
  ): Promise<AssignmentRow[]> {
    let query = this.db.selectFrom('assignments').selectAll().where('workspace_id', '=', workspaceId);
    if (filter.agentId) query = query.where('agent_id', '=', filter.agentId);
    if (filter.chainId) query = query.where('chain_id', '=', filter.chainId);
    if (filter.state) query = query.where('state', '=', filter.state);
    return query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
  }

  /**
   * Compare-and-set: applies `patch` only if the assignment is in one of `from` (and, when given,
   * held by `gatewayId` at `attempt` under offer `offerId`). Returns whether it applied: exactly
   * one caller wins a race.
   */
  async transition(
    id: string,
    from: readonly AssignmentState[],
    patch: AssignmentPatch,
    guard: Guard = {},
  ): Promise<boolean> {
    const result = await guarded(this.db, id, from, patch, guard).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * `transition` that returns the row as the change left it (undefined when it did not apply), in
   * the same statement: a caller that goes on with the row need not read it again.
   */
  transitionRow(
    id: string,
    from: readonly AssignmentState[],
    patch: AssignmentPatch,
    guard: Guard = {},
  ): Promise<AssignmentRow | undefined> {
    return guarded(this.db, id, from, patch, guard).returningAll().executeTakeFirst();
  }

  /** The oldest queued assignments for the given agents. */
  queuedFor(agentIds: string[], limit: number): Promise<AssignmentRow[]> {
    if (agentIds.length === 0 || limit <= 0) return Promise.resolve([]);
    // A paused agent's work waits in the queue, in order, until it is resumed.
    return this.db
      .selectFrom('assignments')
      .selectAll()
      .where('state', '=', 'queued')
      .where('agent_id', 'in', agentIds)
      .where('agent_id', 'not in', (eb) => eb.selectFrom('agents').select('id').where('paused', '=', 1))
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /**
   * The agents with queued work that is not paused: the dispatcher's catch-up read, so a wake-up
   * it missed (work queued through another hub) waits no longer than one interval.
   */
  async queuedAgents(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('assignments')
      .select('agent_id')
      .distinct()
      .where('state', '=', 'queued')
      .where('agent_id', 'not in', (eb) => eb.selectFrom('agents').select('id').where('paused', '=', 1))
      .execute();
    return rows.map((r) => r.agent_id);
  }

  /** Assignments a gateway holds (offered to it or running on it). */
  heldBy(gatewayId: string): Promise<AssignmentRow[]> {
    return this.db
      .selectFrom('assignments')
      .selectAll()
      .where('gateway_id', '=', gatewayId)
      .where('state', 'in', ['offered', 'starting', 'running', 'cancelling'])
      .execute();
  }

  /** Held assignments whose lease ran out before `before`. */
  leaseExpired(before: number): Promise<AssignmentRow[]> {
    return this.db
      .selectFrom('assignments')
      .selectAll()
      .where('state', 'in', ['offered', 'starting', 'running', 'cancelling'])
      .where('lease_expires_at', '<', before)
      .execute();
  }

  /** Queued assignments that have waited since before `before` (a paused agent's excepted). */
  queuedBefore(before: number, limit = 500): Promise<AssignmentRow[]> {
    // Waiting counts from the last time it was queued (created, requeued, or its agent resumed);
    // a paused agent's work never expires while it is paused.
    return this.db
      .selectFrom('assignments')
      .selectAll()
      .where('state', '=', 'queued')
      .where('updated_at', '<', before)
      .where('agent_id', 'not in', (eb) => eb.selectFrom('agents').select('id').where('paused', '=', 1))
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  /** Extends the held attempts' leases of many gateways at once (those heard from lately), 500 per statement. */
  async renewLeases(gatewayIds: string[], until: number): Promise<void> {
    for (let i = 0; i < gatewayIds.length; i += 500) {
      await this.db
        .updateTable('assignments')
        .set({ lease_expires_at: until })
        .where('gateway_id', 'in', gatewayIds.slice(i, i + 500))
        .where('state', 'in', ['offered', 'starting', 'running', 'cancelling'])
        .execute();
    }
  }

  /** After a hub restart every held attempt gets a fresh lease, so reconnecting gateways keep their runs. */
  async refreshAllLeases(until: number): Promise<void> {
    await this.db
      .updateTable('assignments')
      .set({ lease_expires_at: until })
      .where('state', 'in', ['offered', 'starting', 'running', 'cancelling'])
      .execute();
  }

  /** The queue TTL of an agent's queued work counts from now again (it was resumed). */
  async touchQueued(agentId: string, now = Date.now()): Promise<void> {
    await this.db
      .updateTable('assignments')
      .set({ updated_at: now })
      .where('agent_id', '=', agentId)
      .where('state', '=', 'queued')
      .execute();
  }

  async countQueued(agentId: string): Promise<number> {
    const queued = await this.db
      .selectFrom('assignments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('agent_id', '=', agentId)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    return Number(queued?.n ?? 0);
  }
}

function newRow(input: NewAssignment, now: number): AssignmentRow {
  const id = input.id ?? newId('asg', now);
  return {
    id,
    workspace_id: input.workspaceId,
    agent_id: input.agentId,
    prompt: input.prompt,
    session_key: input.sessionKey,
    mode: input.mode,
    resume_fallback: input.resumeFallback,
    timeout_ms: input.timeoutMs,
    retries: input.retries,
    state: 'queued',
    attempt: 1,
    gateway_id: null,
    offer_id: null,
    lease_expires_at: null,
    created_by: input.createdBy,
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
    result_output: null,
    result_exit_code: null,
    error_code: null,
    error_message: null,
    result_details: null,
    chain_id: input.chainId ?? id,
    depth: input.depth ?? 1,
    cause_id: input.causeId ?? null,
  };
}

/** The update of a compare-and-set transition. */
function guarded(db: Db, id: string, from: readonly AssignmentState[], patch: AssignmentPatch, guard: Guard) {
  let query = db
    .updateTable('assignments')
    .set({ updated_at: Date.now(), ...patch })
    .where('id', '=', id)
    .where('state', 'in', [...from]);
  if (guard.gatewayId !== undefined) query = query.where('gateway_id', '=', guard.gatewayId);
  if (guard.attempt !== undefined) query = query.where('attempt', '=', guard.attempt);
  if (guard.offerId !== undefined) query = query.where('offer_id', '=', guard.offerId);
  return query;
}
