/**
 * The hub's store: one query layer (Kysely) over SQLite or PostgreSQL. Domain code calls these
 * methods and never writes SQL of its own; both backends pass the same contract suite.
 */
import type { Kysely } from 'kysely';
import { Migrator, sql } from 'kysely';
import { activeStates, type ApprovalStatus, type AssignmentState } from '@gantry/protocol';
import { newId } from '../ids.ts';
import { migrationProvider } from './migrations/index.ts';
import type {
  AgentTable,
  ApprovalTable,
  AssignmentEventTable,
  AssignmentTable,
  Database,
  GatewayTable,
  TokenTable,
  UserTable,
  WorkspaceTable,
} from './schema.ts';

export type StoreKind = 'sqlite' | 'postgres';
export type AssignmentRow = AssignmentTable;
export type AgentRow = AgentTable;
export type GatewayRow = GatewayTable;
export type TokenRow = TokenTable;
export type UserRow = UserTable;
export type WorkspaceRow = WorkspaceTable;
export type EventRow = AssignmentEventTable;
export type NewEvent = Omit<AssignmentEventTable, 'assignment_id' | 'attempt'>;
export type ApprovalRow = ApprovalTable;
export type ApprovalPatch = Partial<Pick<ApprovalTable, 'status' | 'decided_at' | 'decided_by' | 'answered'>>;

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
}

export type AssignmentPatch = Partial<
  Omit<AssignmentTable, 'id' | 'workspace_id' | 'agent_id' | 'created_at'>
>;

export class Store {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;

  /** A faster path for the hottest write, where the backend has one (SQLite: a prepared statement). */
  private readonly fastInsertEvents: ((rows: AssignmentEventTable[]) => void) | undefined;

  constructor(
    kind: StoreKind,
    db: Kysely<Database>,
    fast: { insertEvents?: (rows: AssignmentEventTable[]) => void } = {},
  ) {
    this.kind = kind;
    this.db = db;
    this.fastInsertEvents = fast.insertEvents;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
      throw new Error(`database migration failed: ${reason}`, { cause: error });
    }
  }

  close(): Promise<void> {
    return this.db.destroy();
  }

  // ---- meta ------------------------------------------------------------------------------------

  async getMeta(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  // ---- workspaces and users --------------------------------------------------------------------

  async createWorkspace(name: string, now = Date.now()): Promise<WorkspaceRow> {
    const row = { id: newId('ws', now), name, created_at: now };
    await this.db.insertInto('workspaces').values(row).execute();
    return row;
  }

  getWorkspace(id: string): Promise<WorkspaceRow | undefined> {
    return this.db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  }

  firstWorkspace(): Promise<WorkspaceRow | undefined> {
    return this.db.selectFrom('workspaces').selectAll().orderBy('created_at').limit(1).executeTakeFirst();
  }

  /** A membership; `personId` makes it another membership of that person (default: a new person). */
  async createUser(
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

  getUser(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // ---- tokens ----------------------------------------------------------------------------------

  async insertToken(row: TokenRow): Promise<void> {
    await this.db.insertInto('tokens').values(row).execute();
  }

  getToken(id: string): Promise<TokenRow | undefined> {
    return this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async touchToken(id: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  // ---- agents ----------------------------------------------------------------------------------

  async createAgent(
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
  findAgent(workspaceId: string, ref: string): Promise<AgentRow | undefined> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('removed_at', 'is', null)
      .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
      .executeTakeFirst();
  }

  getAgent(id: string): Promise<AgentRow | undefined> {
    return this.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listAgents(workspaceId: string): Promise<AgentRow[]> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('removed_at', 'is', null)
      .orderBy('name')
      .execute();
  }

  /** A removed agent's row, by name: its name stays taken while history refers to it. */
  findRemovedAgent(workspaceId: string, name: string): Promise<AgentRow | undefined> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .where('removed_at', 'is not', null)
      .executeTakeFirst();
  }

  /** Revokes every live token of a principal; returns how many. */
  async revokeTokensOf(ownerId: string, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('owner_id', '=', ownerId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async detachAgent(gatewayId: string, agentId: string): Promise<void> {
    await this.db
      .deleteFrom('gateway_agents')
      .where('gateway_id', '=', gatewayId)
      .where('agent_id', '=', agentId)
      .execute();
  }

  /** Whether anything kept for history (work, mail, tasks, tool approvals) refers to an agent. */
  async agentReferenced(agentId: string): Promise<boolean> {
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
  async deleteAgent(agentId: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('tokens').where('owner_id', '=', agentId).execute();
      await tx.deleteFrom('device_grants').where('agent_id', '=', agentId).execute();
      await tx.deleteFrom('gateway_agents').where('agent_id', '=', agentId).execute();
      await tx.deleteFrom('agents').where('id', '=', agentId).execute();
    });
  }

  async markAgentRemoved(agentId: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('agents').set({ removed_at: now }).where('id', '=', agentId).execute();
  }

  // ---- gateways --------------------------------------------------------------------------------

  async createGateway(workspaceId: string, name: string, hostname: string | null, now = Date.now()) {
    const row: GatewayRow = {
      id: newId('gw', now),
      workspace_id: workspaceId,
      name,
      hostname,
      version: null,
      connected: 0,
      last_seen_at: null,
      created_at: now,
    };
    await this.db.insertInto('gateways').values(row).execute();
    return row;
  }

  getGateway(id: string): Promise<GatewayRow | undefined> {
    return this.db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listGateways(workspaceId: string): Promise<GatewayRow[]> {
    return this.db
      .selectFrom('gateways')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at')
      .execute();
  }

  async updateGateway(id: string, patch: Partial<Omit<GatewayRow, 'id' | 'workspace_id'>>): Promise<void> {
    await this.db.updateTable('gateways').set(patch).where('id', '=', id).execute();
  }

  /** Marks every gateway disconnected: a starting hub holds no connections yet. */
  async disconnectAllGateways(): Promise<void> {
    await this.db.updateTable('gateways').set({ connected: 0 }).where('connected', '=', 1).execute();
  }

  async attachAgent(gatewayId: string, agentId: string, provider: string | null, now = Date.now()) {
    await this.db
      .insertInto('gateway_agents')
      .values({ gateway_id: gatewayId, agent_id: agentId, provider, created_at: now })
      .onConflict((oc) => oc.columns(['gateway_id', 'agent_id']).doUpdateSet({ provider }))
      .execute();
  }

  /** Agents attached to the given gateways, with the provider each was connected with. */
  gatewayAgents(gatewayIds: string[]) {
    if (gatewayIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('gateway_agents')
      .innerJoin('agents', 'agents.id', 'gateway_agents.agent_id')
      .select([
        'gateway_agents.gateway_id as gatewayId',
        'agents.id as id',
        'agents.name as name',
        'gateway_agents.provider as provider',
      ])
      .where('gateway_agents.gateway_id', 'in', gatewayIds)
      .orderBy('agents.name')
      .execute();
  }

  /** Gateways an agent is attached to. */
  agentGateways(agentIds: string[]) {
    if (agentIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('gateway_agents')
      .innerJoin('gateways', 'gateways.id', 'gateway_agents.gateway_id')
      .select([
        'gateway_agents.agent_id as agentId',
        'gateways.id as id',
        'gateways.name as name',
        'gateways.connected as connected',
      ])
      .where('gateway_agents.agent_id', 'in', agentIds)
      .orderBy('gateways.name')
      .execute();
  }

  // ---- assignments -----------------------------------------------------------------------------

  async createAssignment(input: NewAssignment, now = Date.now()): Promise<AssignmentRow> {
    const row: AssignmentRow = {
      id: newId('asg', now),
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
    };
    await this.db.insertInto('assignments').values(row).execute();
    return row;
  }

  getAssignment(id: string): Promise<AssignmentRow | undefined> {
    return this.db.selectFrom('assignments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listAssignments(
    workspaceId: string,
    filter: { agentId?: string; state?: string; limit?: number } = {},
  ): Promise<AssignmentRow[]> {
    let query = this.db.selectFrom('assignments').selectAll().where('workspace_id', '=', workspaceId);
    if (filter.agentId) query = query.where('agent_id', '=', filter.agentId);
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
    guard: { gatewayId?: string; attempt?: number; offerId?: string } = {},
  ): Promise<boolean> {
    let query = this.db
      .updateTable('assignments')
      .set({ updated_at: Date.now(), ...patch })
      .where('id', '=', id)
      .where('state', 'in', [...from]);
    if (guard.gatewayId !== undefined) query = query.where('gateway_id', '=', guard.gatewayId);
    if (guard.attempt !== undefined) query = query.where('attempt', '=', guard.attempt);
    if (guard.offerId !== undefined) query = query.where('offer_id', '=', guard.offerId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
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

  async renewLeases(gatewayId: string, until: number): Promise<void> {
    await this.db
      .updateTable('assignments')
      .set({ lease_expires_at: until })
      .where('gateway_id', '=', gatewayId)
      .where('state', 'in', ['offered', 'starting', 'running', 'cancelling'])
      .execute();
  }

  /** After a hub restart every held attempt gets a fresh lease, so reconnecting gateways keep their runs. */
  async refreshAllLeases(until: number): Promise<void> {
    await this.db
      .updateTable('assignments')
      .set({ lease_expires_at: until })
      .where('state', 'in', ['offered', 'starting', 'running', 'cancelling'])
      .execute();
  }

  // ---- approvals -------------------------------------------------------------------------------

  /** Stores an approval; a request (assignment, attempt, request id) that already has one keeps it. */
  async insertApproval(row: ApprovalRow): Promise<void> {
    await this.db
      .insertInto('approvals')
      .values(row)
      .onConflict((oc) => oc.columns(['assignment_id', 'attempt', 'request_id']).doNothing())
      .execute();
  }

  getApproval(id: string): Promise<ApprovalRow | undefined> {
    return this.db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findApproval(assignmentId: string, attempt: number, requestId: string): Promise<ApprovalRow | undefined> {
    return this.db
      .selectFrom('approvals')
      .selectAll()
      .where('assignment_id', '=', assignmentId)
      .where('attempt', '=', attempt)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
  }

  listApprovals(
    workspaceId: string,
    filter: { status?: string; limit?: number } = {},
  ): Promise<ApprovalRow[]> {
    let query = this.db.selectFrom('approvals').selectAll().where('workspace_id', '=', workspaceId);
    if (filter.status) query = query.where('status', '=', filter.status);
    return query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
  }

  /** Compare-and-set on an approval's status: applies `patch` only from one of `from`. */
  async updateApproval(id: string, from: readonly ApprovalStatus[], patch: ApprovalPatch): Promise<boolean> {
    const result = await this.db
      .updateTable('approvals')
      .set(patch)
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Pending approvals of an attempt that ended become `expired`; returns how many did. */
  async expireApprovals(assignmentId: string, attempt: number, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('approvals')
      .set({ status: 'expired', decided_at: now })
      .where('assignment_id', '=', assignmentId)
      .where('attempt', '=', attempt)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Decisions the gateway has not confirmed yet, for attempts it still holds: what a reconnecting
   * gateway is sent again.
   */
  unansweredDecisions(gatewayId: string): Promise<ApprovalRow[]> {
    return this.db
      .selectFrom('approvals')
      .innerJoin('assignments', (join) =>
        join
          .onRef('assignments.id', '=', 'approvals.assignment_id')
          .onRef('assignments.attempt', '=', 'approvals.attempt'),
      )
      .selectAll('approvals')
      .where('assignments.gateway_id', '=', gatewayId)
      .where('assignments.state', 'in', [...activeStates])
      .where('approvals.status', 'in', ['approved', 'denied'])
      .where('approvals.answered', '=', 0)
      .orderBy('approvals.created_at')
      .execute();
  }

  // ---- audit ----------------------------------------------------------------------------------

  async audit(entry: { workspaceId: string; actor: string; action: string; subject: string; data: unknown }) {
    const now = Date.now();
    await this.db
      .insertInto('audit')
      .values({
        id: newId('aud', now),
        workspace_id: entry.workspaceId,
        ts: now,
        actor: entry.actor,
        action: entry.action,
        subject: entry.subject,
        data: JSON.stringify(entry.data),
      })
      .execute();
  }

  listAudit(workspaceId: string, limit = 100) {
    return this.db
      .selectFrom('audit')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('ts', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  // ---- events ----------------------------------------------------------------------------------

  /**
   * Stores events by (assignment, attempt, seq); a seq already stored is left as it was, so a
   * replayed batch has no effect. Returns the highest seq up to which the attempt has no gap.
   */
  async appendEvents(assignmentId: string, attempt: number, events: NewEvent[]): Promise<number> {
    await this.insertEvents(assignmentId, attempt, events);
    return this.contiguousSeq(assignmentId, attempt);
  }

  /** Stores events by (assignment, attempt, seq); a seq already stored is left as it was. */
  async insertEvents(assignmentId: string, attempt: number, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({ ...e, assignment_id: assignmentId, attempt }));
    if (this.fastInsertEvents) return this.fastInsertEvents(rows);
    await this.db
      .insertInto('assignment_events')
      .values(rows)
      .onConflict((oc) => oc.columns(['assignment_id', 'attempt', 'seq']).doNothing())
      .execute();
  }

  /** The highest seq n such that seqs 1..n of the attempt are all stored. */
  async contiguousSeq(assignmentId: string, attempt: number): Promise<number> {
    const row = await this.db
      .selectFrom('assignment_events')
      .select([sql<number>`count(*)`.as('n'), sql<number>`max(seq)`.as('top')])
      .where('assignment_id', '=', assignmentId)
      .where('attempt', '=', attempt)
      .where('seq', '>=', 1) // with seqs from 1 only, count = max means 1..max are all there
      .executeTakeFirstOrThrow();
    const count = Number(row.n);
    if (count === 0) return 0;
    if (Number(row.top) === count) return count;
    // A gap: find the first missing seq.
    const gap = await this.db
      .selectFrom('assignment_events as e')
      .select(sql<number>`min(e.seq)`.as('seq'))
      .where('e.assignment_id', '=', assignmentId)
      .where('e.attempt', '=', attempt)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('assignment_events as n')
              .select('n.seq')
              .whereRef('n.assignment_id', '=', 'e.assignment_id')
              .whereRef('n.attempt', '=', 'e.attempt')
              .where(sql<boolean>`n.seq = e.seq + 1`),
          ),
        ),
      )
      .executeTakeFirstOrThrow();
    const firstTop = Number(gap.seq);
    const hasOne = await this.db
      .selectFrom('assignment_events')
      .select('seq')
      .where('assignment_id', '=', assignmentId)
      .where('attempt', '=', attempt)
      .where('seq', '=', 1)
      .executeTakeFirst();
    return hasOne ? firstTop : 0;
  }

  /** Events in (attempt, seq) order, after the given position when there is one. */
  listEvents(assignmentId: string, after?: { attempt: number; seq: number }, limit = 10_000) {
    let query = this.db.selectFrom('assignment_events').selectAll().where('assignment_id', '=', assignmentId);
    if (after) {
      // A row-value comparison, so both databases walk the primary key from the cursor on.
      query = query.where(sql<boolean>`(attempt, seq) > (${after.attempt}, ${after.seq})`);
    }
    return query.orderBy('attempt').orderBy('seq').limit(limit).execute();
  }
}
