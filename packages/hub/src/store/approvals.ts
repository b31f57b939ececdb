/** A running agent's tool permission requests, and the decisions a user made on them. */
import { activeStates, type ApprovalStatus } from '@gantry/protocol';
import type { Db } from './db.ts';
import type { ApprovalTable } from './schema.ts';

export type ApprovalRow = ApprovalTable;
export type ApprovalPatch = Partial<Pick<ApprovalTable, 'status' | 'decided_at' | 'decided_by' | 'answered'>>;

export class ApprovalRepository {
  constructor(private readonly db: Db) {}

  /** Stores an approval; a request (assignment, attempt, request id) that already has one keeps it. */
  async insert(row: ApprovalRow): Promise<void> {
    await this.db
      .insertInto('approvals')
      .values(row)
      .onConflict((oc) => oc.columns(['assignment_id', 'attempt', 'request_id']).doNothing())
      .execute();
  }

  get(id: string): Promise<ApprovalRow | undefined> {
    return this.db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
  }

  find(assignmentId: string, attempt: number, requestId: string): Promise<ApprovalRow | undefined> {
    return this.db
      .selectFrom('approvals')
      .selectAll()
      .where('assignment_id', '=', assignmentId)
      .where('attempt', '=', attempt)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
  }

  list(workspaceId: string, filter: { status?: string; limit?: number } = {}): Promise<ApprovalRow[]> {
    let query = this.db.selectFrom('approvals').selectAll().where('workspace_id', '=', workspaceId);
    if (filter.status) query = query.where('status', '=', filter.status);
    return query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
  }

  /**
   * The approvals of runs in chains `personId` started (a chain without a recorded root: runs the
   * person created), newest first: what a member sees.
   */
  listOfPerson(
    workspaceId: string,
    personId: string,
    filter: { status?: string; limit?: number } = {},
  ): Promise<ApprovalRow[]> {
    let query = this.db
      .selectFrom('approvals')
      .innerJoin('assignments', 'assignments.id', 'approvals.assignment_id')
      .leftJoin('chains', 'chains.id', 'assignments.chain_id')
      .selectAll('approvals')
      .where('approvals.workspace_id', '=', workspaceId)
      .where((eb) =>
        eb.or([
          eb('chains.person_id', '=', personId),
          eb.and([eb('chains.id', 'is', null), eb('assignments.created_by', '=', `user:${personId}`)]),
        ]),
      );
    if (filter.status) query = query.where('approvals.status', '=', filter.status);
    return query
      .orderBy('approvals.created_at', 'desc')
      .orderBy('approvals.id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
  }

  /** Compare-and-set on an approval's status: applies `patch` only from one of `from`. */
  async update(id: string, from: readonly ApprovalStatus[], patch: ApprovalPatch): Promise<boolean> {
    const result = await this.db
      .updateTable('approvals')
      .set(patch)
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Pending approvals of an attempt that ended become `expired`; returns how many did. */
  async expire(assignmentId: string, attempt: number, now = Date.now()): Promise<number> {
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
  unanswered(gatewayId: string): Promise<ApprovalRow[]> {
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
}
