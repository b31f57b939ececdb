/**
 * `approval.requested`: a decision now waits on a person (a tool request, a device, a changed
 * fingerprint, a folder). The dashboard's Needs you learns of it from the activity stream, as it
 * learns of the decision from `approval.decided`, without polling `/v1/approvals`.
 */
import { approvalRequested, type Approval } from '@gantry/protocol';
import type { Activity } from './activity.ts';

export interface RequestedApproval {
  id: string;
  workspaceId: string;
  kind: Approval['kind'];
  subject: string;
  agent: { id: string; name: string };
  assignmentId?: string | null;
  gatewayId?: string;
}

export async function announceRequested(
  activity: Activity | undefined,
  approval: RequestedApproval,
): Promise<void> {
  if (!activity) return;
  await activity.append(approvalRequested, {
    workspaceId: approval.workspaceId,
    actor: { kind: 'agent', ...approval.agent },
    subject: approval.id,
    data: {
      approvalId: approval.id,
      kind: approval.kind,
      status: 'pending',
      subject: approval.subject,
      agent: approval.agent,
      ...(approval.assignmentId ? { assignmentId: approval.assignmentId } : {}),
      ...(approval.gatewayId ? { gatewayId: approval.gatewayId } : {}),
    },
  });
}
