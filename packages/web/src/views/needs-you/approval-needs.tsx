/**
 * Pending approvals as needs-you items: a running agent's tool request (with the run and who
 * started it), a new device, a changed fingerprint, a pass-through folder. Approve and Deny decide
 * it on the hub; it leaves this list at once, and every other tab's when the decision's activity
 * entry arrives.
 */
import { useQueries, useQueryClient } from '@tanstack/react-query';
import type { Approval, Assignment } from '@gantry/protocol';
import { ApiError, request, segment } from '../../api/client.ts';
import { keys, useApprovals, useGateways, useUsers } from '../../api/resources.ts';
import { announce } from '../../ui/announcer.tsx';
import { Link } from '../../ui/link.tsx';
import type { NeedItem, NeedSource } from './needs.ts';

const kindLabels: Record<Approval['kind'], string> = {
  tool_permission: 'Tool permission',
  device: 'New device',
  fingerprint: 'Changed device',
  folder: 'Folder registration',
};

export function useApprovalNeeds(): NeedSource {
  const client = useQueryClient();
  const approvals = useApprovals();
  const pending = approvals.data ?? [];
  const gateways = useGateways();
  const users = useUsers();
  // The run behind each tool request, for who started it.
  const runs = useQueries({
    queries: [...new Set(pending.flatMap((a) => (a.assignmentId ? [a.assignmentId] : [])))].map((id) => ({
      queryKey: keys.assignment(id),
      queryFn: () => request<Assignment>(`/v1/assignments/${segment(id)}`),
    })),
  });
  const runOf = new Map(runs.flatMap((q) => (q.data ? [[q.data.id, q.data] as const] : [])));
  const userName = (createdBy: string) => {
    const [kind, id] = createdBy.split(':');
    const name = kind === 'user' ? users.data?.find((u) => u.id === id)?.handle : undefined;
    return name ?? createdBy;
  };
  const gatewayName = (id: string | undefined) => gateways.data?.find((g) => g.id === id)?.name ?? id;

  const decide = async (approval: Approval, decision: 'approve' | 'deny') => {
    try {
      await request(`/v1/approvals/${segment(approval.id)}/${decision}`, { method: 'POST' });
      announce(`${decision === 'approve' ? 'Approved' : 'Denied'}: ${approval.subject}`);
    } catch (err) {
      // Decided elsewhere first (another tab, the CLI): the list catches up below.
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      announce(`Already decided: ${approval.subject}`);
    } finally {
      client.setQueryData<Approval[]>(keys.approvals, (list) => list?.filter((a) => a.id !== approval.id));
      void client.invalidateQueries({ queryKey: keys.approvals });
    }
  };

  const items = pending
    .filter((a) => a.status === 'pending')
    .map((approval): NeedItem => {
      const run = approval.assignmentId ? runOf.get(approval.assignmentId) : undefined;
      const details: NeedItem['details'] = [{ label: 'Agent', value: approval.agent.name }];
      if (approval.kind === 'tool_permission') {
        details.push({ label: 'Tool', value: approval.tool });
        if (approval.assignmentId)
          details.push({
            label: 'Run',
            value: <Link to={`/assignments/${approval.assignmentId}`}>{approval.assignmentId}</Link>,
          });
        if (run) details.push({ label: 'Started by', value: userName(run.createdBy) });
      } else if (approval.gatewayId) {
        details.push({ label: 'Gateway', value: gatewayName(approval.gatewayId) });
      }
      return {
        id: `approval:${approval.id}`,
        kind: approval.kind,
        kindLabel: kindLabels[approval.kind],
        createdAt: approval.createdAt,
        agent: approval.agent,
        title: approval.subject,
        details,
        code: approval.kind === 'tool_permission' ? approval.input : undefined,
        href: approval.assignmentId ? `/assignments/${approval.assignmentId}` : undefined,
        actions: [
          { label: 'Approve', tone: 'primary', shortcut: 'a', run: () => decide(approval, 'approve') },
          { label: 'Deny', tone: 'danger', shortcut: 'd', run: () => decide(approval, 'deny') },
        ],
      };
    });
  return { items, loading: approvals.isPending, error: approvals.error };
}
