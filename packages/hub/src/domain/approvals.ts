/**
 * Approvals (DESIGN §2): a running agent's tool-permission request becomes a pending approval that
 * the person who started the run, or an owner or admin, decides. Requests and the gateway's confirmations arrive as run events
 * (`permission_requested`, `permission_decided`); a decision goes back as a `permission` frame,
 * sent again on every reconnect until the gateway confirms it. An approval lives as long as its
 * attempt: one still pending when the attempt ends is `expired`.
 */
import {
  activeStates,
  approvalStatuses,
  clip,
  GantryError,
  providerEventSchemas,
  type ApprovalStatus,
  type AssignmentState,
  type HubFrameOf,
  type RunEvent,
} from '@gantry/protocol';
import type { Actor } from './actor.ts';
import { hasRole, requireRole } from '../auth/roles.ts';
import { newId } from '../ids.ts';
import type { ApprovalPatch, ApprovalRow, AssignmentRow, Store } from '../store/store.ts';
import { rootPersonOf, type ApprovalNotices } from './approval-notices.ts';

export type Decision = 'approved' | 'denied';

/**
 * Owners and admins read and decide every approval (DESIGN §5); a member those of the runs of
 * chains they started; agent keys and gateways none.
 */
function requireUser(caller: Actor): void {
  requireRole(caller, 'member', 'read or decide approvals');
}

const subjectMax = 200;
const inputMax = 8_000;

export class Approvals {
  constructor(
    private readonly store: Store,
    private readonly notices?: ApprovalNotices,
  ) {}

  /**
   * Records the permission events of a stored batch. Replays change nothing: a request has one
   * approval, and a confirmation only ever moves it forward. Other events cost one string test.
   */
  async ingest(row: AssignmentRow, attempt: number, events: readonly RunEvent[]): Promise<void> {
    for (const event of events) {
      if (!event.type.startsWith('permission_')) continue;
      if (event.type === 'permission_requested') await this.requested(row, attempt, event.data);
      else if (event.type === 'permission_decided') await this.confirmed(row.id, attempt, event.data);
    }
  }

  async list(caller: Actor, filter: { status?: string; limit?: number }): Promise<ApprovalRow[]> {
    requireUser(caller);
    if (hasRole(caller, 'admin')) return this.store.approvals.list(caller.workspaceId, filter);
    return this.store.approvals.listOfPerson(caller.workspaceId, caller.id, filter);
  }

  /**
   * Reads an approval the caller may see, or throws not_found (a member is not told of approvals
   * of runs they did not start).
   */
  async get(caller: Actor, id: string): Promise<ApprovalRow> {
    requireUser(caller);
    const row = await this.store.approvals.get(id);
    if (!row || row.workspace_id !== caller.workspaceId || !(await this.mayDecide(caller, row)))
      throw new GantryError('not_found', `no approval ${id}`);
    return row;
  }

  private async mayDecide(caller: Actor, row: ApprovalRow): Promise<boolean> {
    if (hasRole(caller, 'admin')) return true;
    const assignment = await this.store.assignments.get(row.assignment_id);
    return assignment !== undefined && (await rootPersonOf(this.store, assignment)) === caller.id;
  }

  /**
   * A user's decision on a pending approval. Returns the decided approval and the gateway that
   * holds its attempt, which the caller sends the `permission` frame to.
   */
  async decide(
    caller: Actor,
    id: string,
    decision: Decision,
  ): Promise<{ approval: ApprovalRow; gatewayId: string | null }> {
    const approval = await this.get(caller, id);
    if (approval.status !== 'pending') throw alreadyDecided(approval);
    const assignment = await this.store.assignments.get(approval.assignment_id);
    if (!assignment || !isLive(assignment, approval.attempt)) {
      // The attempt ended without this approval being expired (the hub stopped in between).
      await this.store.approvals.expire(approval.assignment_id, approval.attempt);
      throw alreadyDecided({ ...approval, status: 'expired', decided_by: null });
    }
    const decided = await this.store.approvals.update(id, ['pending'], {
      status: decision,
      decided_at: Date.now(),
      decided_by: caller.id,
    });
    if (!decided) throw alreadyDecided(await this.get(caller, id)); // another decision won the race
    await this.store.audit.record({
      workspaceId: approval.workspace_id,
      actor: `user:${caller.id}`,
      action: `approval_${decision}`,
      subject: id,
      data: {
        assignmentId: approval.assignment_id,
        attempt: approval.attempt,
        requestId: approval.request_id,
        subject: approval.subject,
      },
    });
    return { approval: await this.get(caller, id), gatewayId: assignment.gateway_id };
  }

  /** The decisions a (re)connected gateway has not confirmed yet, as frames to send it again. */
  async unanswered(gatewayId: string): Promise<HubFrameOf<'permission'>[]> {
    return (await this.store.approvals.unanswered(gatewayId)).map(permissionFrame);
  }

  private async requested(row: AssignmentRow, attempt: number, data: unknown): Promise<void> {
    const parsed = providerEventSchemas.permission_requested.safeParse(data);
    if (!parsed.success) return; // kept as an event; there is nothing a user could decide
    const { requestId, tool, input } = parsed.data;
    const now = Date.now();
    // A request replayed after its attempt ended can no longer be answered.
    const live = isLive(row, attempt);
    const id = newId('apv', now);
    const subject = subjectOf(tool, input);
    await this.store.approvals.insert({
      id,
      workspace_id: row.workspace_id,
      kind: 'tool_permission',
      status: live ? 'pending' : 'expired',
      tool: clip(tool, subjectMax),
      input: clip(input, inputMax),
      subject,
      agent_id: row.agent_id,
      assignment_id: row.id,
      attempt,
      request_id: requestId,
      created_at: now,
      decided_at: live ? null : now,
      decided_by: null,
      answered: 0,
    });
    if (!live) return;
    // Replayed events find the request stored already: it is announced once.
    const stored = await this.store.approvals.find(row.id, attempt, requestId);
    if (stored?.id !== id) return;
    const agent = await this.store.agents.get(row.agent_id);
    await this.notices?.requested({
      id,
      workspaceId: row.workspace_id,
      kind: 'tool_permission',
      subject,
      agent: { id: row.agent_id, name: agent?.name ?? row.agent_id },
      assignmentId: row.id,
      person: await rootPersonOf(this.store, row),
    });
  }

  /**
   * The gateway's `permission_decided`: the request is answered. Its word is final on what the
   * agent got: a timeout expires the approval even when a user's decision was still on its way,
   * and a policy decides it at once.
   */
  private async confirmed(assignmentId: string, attempt: number, data: unknown): Promise<void> {
    const parsed = providerEventSchemas.permission_decided.safeParse(data);
    if (!parsed.success) return;
    const approval = await this.store.approvals.find(assignmentId, attempt, parsed.data.requestId);
    if (!approval) return;
    const settle = settlement(parsed.data);
    const settled =
      settle !== undefined &&
      (await this.store.approvals.update(approval.id, settle.from, { ...settle.patch, answered: 1 }));
    if (!settled) await this.store.approvals.update(approval.id, approvalStatuses, { answered: 1 });
    // Decided without a person (timed out, or by the binding's policy): it leaves Needs you live.
    else await this.notices?.settled(approval, settle.patch.status as ApprovalStatus);
  }
}

/** What a decision the gateway made without a user (a timeout, a policy) makes of the approval. */
function settlement(event: {
  decision: Decision;
  by: 'user' | 'policy' | 'timeout';
}): { from: ApprovalStatus[]; patch: ApprovalPatch } | undefined {
  const now = Date.now();
  if (event.by === 'timeout') {
    const patch = { status: 'expired', decided_by: 'timeout', decided_at: now };
    return { from: ['pending', 'approved', 'denied'], patch };
  }
  if (event.by === 'policy') {
    const patch = { status: event.decision, decided_by: 'policy', decided_at: now };
    return { from: ['pending'], patch };
  }
  return undefined;
}

export function permissionFrame(row: ApprovalRow): HubFrameOf<'permission'> {
  return {
    t: 'permission',
    assignmentId: row.assignment_id,
    attempt: row.attempt,
    requestId: row.request_id,
    approvalId: row.id,
    decision: row.status as Decision,
  };
}

/** `Bash: touch notes.txt`: one line, clipped; `…` marks what was left out. */
function subjectOf(tool: string, input: string): string {
  const flat = input.trim();
  const firstLine = flat.split(/\r?\n/, 1)[0] ?? '';
  const line = firstLine.length < flat.length ? `${firstLine} …` : firstLine;
  return clip(line ? `${tool}: ${line}` : tool, subjectMax);
}

/** Whether the attempt is the assignment's current one and may still be running. */
function isLive(row: AssignmentRow, attempt: number): boolean {
  return (
    row.attempt === attempt &&
    (activeStates as readonly AssignmentState[]).includes(row.state as AssignmentState)
  );
}

/** The 409 for deciding an approval that is no longer pending, naming its status and why. */
function alreadyDecided(approval: ApprovalRow): GantryError {
  const why =
    approval.status !== 'expired'
      ? `by ${approval.decided_by ?? 'someone else'}`
      : approval.decided_by === 'timeout'
        ? '(nobody decided before the gateway timed it out)'
        : '(its run ended before a decision)';
  return new GantryError('conflict', `approval ${approval.id} is already ${approval.status} ${why}`, {
    details: { status: approval.status },
  });
}
