/** Store rows as the JSON the hub serves (the shapes in `protocol`). */
import type {
  Approval,
  ApprovalStatus,
  Assignment,
  AssignmentEvent,
  AssignmentMode,
  AssignmentState,
  ResultDetails,
  ResumeFallback,
} from '@gantry/protocol';
import type { AgentRow, ApprovalRow, AssignmentRow, EventRow } from '../store/store.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function assignmentView(row: AssignmentRow, agent: Pick<AgentRow, 'id' | 'name'>): Assignment {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    agent: { id: agent.id, name: agent.name },
    state: row.state as AssignmentState,
    attempt: row.attempt,
    prompt: row.prompt,
    sessionKey: row.session_key,
    mode: row.mode as AssignmentMode,
    resumeFallback: row.resume_fallback as ResumeFallback,
    timeoutMs: row.timeout_ms,
    retries: row.retries,
    gatewayId: row.gateway_id,
    createdBy: row.created_by,
    createdAt: iso(row.created_at) as string,
    updatedAt: iso(row.updated_at) as string,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    result:
      row.result_output === null
        ? null
        : { output: row.result_output, exitCode: row.result_exit_code, ...resultDetails(row) },
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
    chainId: row.chain_id,
    depth: row.depth,
  };
}

/** The result frame's details, stored as JSON: branch, changed files, usage. */
function resultDetails(row: AssignmentRow): ResultDetails {
  return row.result_details === null ? {} : (JSON.parse(row.result_details) as ResultDetails);
}

export function approvalView(row: ApprovalRow, agent: Pick<AgentRow, 'id' | 'name'>): Approval {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    kind: row.kind as Approval['kind'],
    status: row.status as ApprovalStatus,
    subject: row.subject,
    tool: row.tool,
    input: row.input,
    agent: { id: agent.id, name: agent.name },
    assignmentId: row.assignment_id,
    attempt: row.attempt,
    createdAt: iso(row.created_at) as string,
    requestedAt: iso(row.created_at) as string,
    decidedAt: iso(row.decided_at),
    decidedBy: row.decided_by,
    answered: row.answered === 1,
  };
}

export function eventView(row: EventRow): AssignmentEvent {
  return {
    attempt: row.attempt,
    seq: row.seq,
    type: row.type,
    ts: row.ts,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

/**
 * An approval a gateway asked for (a device, a fingerprint, a pass-through folder): no tool and no
 * assignment; answered once decided.
 */
export function gatewayApprovalView(
  row: {
    id: string;
    workspace_id: string;
    kind: string;
    status: string;
    subject: string;
    gateway_id: string;
    created_at: number;
    decided_at: number | null;
    decided_by: string | null;
  },
  agent: { id: string; name: string },
  input = '',
): Approval {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    kind: row.kind as Approval['kind'],
    status: row.status as Approval['status'],
    subject: row.subject,
    tool: '',
    input,
    agent,
    assignmentId: null,
    attempt: null,
    createdAt: iso(row.created_at) as string,
    requestedAt: iso(row.created_at) as string,
    gatewayId: row.gateway_id,
    decidedAt: iso(row.decided_at),
    decidedBy: row.decided_by,
    answered: row.status !== 'pending',
  };
}

export { iso };
