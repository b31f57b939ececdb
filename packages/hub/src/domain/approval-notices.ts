/**
 * A decision now waits on a person (a tool request, a device, a changed fingerprint, a folder): an
 * `approval.requested` activity entry (the dashboard's Needs you and `gantry watch` learn of it
 * there, as they learn of the decision from `approval.decided`) and a message to the people who
 * can decide it, so `gantry inbox --wait` wakes them. A tool request goes to the person at the
 * root of the run's chain (who asked for the work, however many runs it went through); one with no
 * person behind it (an unattended trigger), and every gateway, device and folder approval, go to
 * the workspace's owners and admins.
 */
import {
  approvalDecided,
  approvalRequested,
  type Approval,
  type ApprovalStatus,
  type Party,
} from '@gantry/protocol';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import type { Messages } from './messages.ts';

export interface RequestedApproval {
  id: string;
  workspaceId: string;
  kind: Approval['kind'];
  subject: string;
  agent: { id: string; name: string };
  assignmentId?: string | null;
  gatewayId?: string;
  /** Tool requests: the id of the person at the root of the run's chain, if there is one. */
  person?: string | null;
}

export class ApprovalNotices {
  constructor(
    private readonly store: Store,
    private readonly activity: Activity,
    private readonly messages: Messages,
  ) {}

  /** Decided without a person (timed out, or by the binding's policy): it leaves Needs you live. */
  async settled(
    approval: { id: string; workspace_id: string; subject: string },
    status: ApprovalStatus,
  ): Promise<void> {
    await this.activity.append(approvalDecided, {
      workspaceId: approval.workspace_id,
      subject: approval.id,
      data: { approvalId: approval.id, kind: 'tool_permission', status, subject: approval.subject },
    });
  }

  async requested(approval: RequestedApproval): Promise<void> {
    await this.activity.append(approvalRequested, {
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
    const to = await this.deciders(approval);
    if (to.length === 0) return;
    // Written by the agent that asks, addressed only to `to`: the subject (a command line) may hold
    // `@names`, which must not become mentions that run anyone.
    await this.messages.send(
      {
        kind: 'agent',
        id: approval.agent.id,
        name: approval.agent.name,
        workspaceId: approval.workspaceId,
        role: null,
      },
      {
        body: noticeBody(approval),
        to: to.map((p) => p.id),
        metadata: { approval: { id: approval.id, kind: approval.kind, status: 'pending' } },
      },
      { addressedOnly: true },
    );
  }

  /** The person behind a tool request, else the owners and admins. */
  private async deciders(approval: RequestedApproval): Promise<Party[]> {
    const id = approval.person;
    if (approval.kind === 'tool_permission' && id) {
      const user = await this.store.users.get(id);
      if (user && user.workspace_id === approval.workspaceId)
        return [{ kind: 'user', id: user.id, name: user.handle }];
    }
    const users = await this.store.users.list(approval.workspaceId);
    return users
      .filter((u) => u.role === 'owner' || u.role === 'admin')
      .map((u) => ({ kind: 'user', id: u.id, name: u.handle }));
  }
}

function noticeBody(approval: RequestedApproval): string {
  const what =
    approval.kind === 'tool_permission'
      ? `${approval.agent.name} asks to use a tool: ${approval.subject}`
      : `${approval.kind} approval needed for ${approval.agent.name}: ${approval.subject}`;
  const run = approval.assignmentId ? ` (run ${approval.assignmentId})` : '';
  return (
    `${what}${run}\n` +
    `Decide: gantry approvals approve ${approval.id}   or   gantry approvals deny ${approval.id}`
  );
}

/**
 * The person at the root of a run's chain: who may see and decide its tool requests. A run from
 * before chains were recorded falls back to the person who created it.
 */
export async function rootPersonOf(store: Store, run: AssignmentRow): Promise<string | null> {
  const chain = await store.chains.get(run.chain_id);
  if (chain) return chain.person_id;
  const [kind, id] = run.created_by.split(':');
  return kind === 'user' && id ? id : null;
}
