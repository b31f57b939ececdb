/** `gantry approvals list|approve|deny`: what running agents ask a user, and the answers. */
import * as z from 'zod';
import { approvalSchema, type Approval } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration } from '../duration.ts';
import { printJson, printLine, table } from '../output.ts';

type Json = { json?: boolean };

export async function list(options: HubOptions & Json & { status?: string; limit?: string }): Promise<void> {
  const query = new URLSearchParams();
  if (options.status) query.set('status', options.status);
  if (options.limit) query.set('limit', options.limit);
  const rows = await HubClient.from(options).request(
    'GET',
    `/v1/approvals${query.size > 0 ? `?${query}` : ''}`,
    z.array(approvalSchema),
  );
  if (options.json) return printJson(rows);
  if (rows.length === 0)
    return printLine(options.status ? `No ${options.status} approvals.` : 'No approvals.');
  const now = Date.now();
  printLine(
    table([
      ['ID', 'KIND', 'STATUS', 'AGENT', 'SUBJECT', 'AGE'],
      ...rows.map((a) => [
        a.id,
        a.kind,
        a.status,
        a.agent.name,
        a.subject.length > 60 ? `${a.subject.slice(0, 59)}…` : a.subject,
        formatDuration(Math.max(0, now - Date.parse(a.createdAt))),
      ]),
    ]),
  );
}

export function approve(id: string, options: HubOptions & Json): Promise<void> {
  return decide(id, 'approve', options);
}

export function deny(id: string, options: HubOptions & Json): Promise<void> {
  return decide(id, 'deny', options);
}

async function decide(id: string, verb: 'approve' | 'deny', options: HubOptions & Json): Promise<void> {
  const approval = await HubClient.from(options).request(
    'POST',
    `/v1/approvals/${encodeURIComponent(id)}/${verb}`,
    approvalSchema,
  );
  if (options.json) return printJson(approval);
  printLine(decidedLine(approval));
}

/** `apv_… approved: Bash: touch notes.txt (agent builder, assignment asg_… attempt 1)`. */
function decidedLine(a: Approval): string {
  const where = a.assignmentId
    ? `assignment ${a.assignmentId} attempt ${a.attempt}`
    : `gateway ${a.gatewayId ?? '?'}`;
  return `${a.id} ${a.status}: ${a.subject} (agent ${a.agent.name}, ${where})`;
}
