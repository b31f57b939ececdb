/** Approvals: decisions a user of the workspace makes (DESIGN §2), e.g. a running agent's tool permission. */
import * as z from 'zod';

export const approvalKinds = ['tool_permission', 'device', 'fingerprint', 'folder'] as const;
export const approvalStatuses = ['pending', 'approved', 'denied', 'expired'] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];

export const approvalSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  kind: z.enum(approvalKinds),
  status: z.enum(approvalStatuses),
  /** One line saying what is asked, e.g. `Bash: touch notes.txt`. */
  subject: z.string(),
  tool: z.string(),
  input: z.string(),
  agent: z.object({ id: z.string(), name: z.string() }),
  /** The run asking (`tool_permission`); null for device kinds. */
  assignmentId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  createdAt: z.string(),
  /** The same as `createdAt`: when it was asked. */
  requestedAt: z.string(),
  /** Device kinds: the gateway asking to serve the agent. */
  gatewayId: z.string().optional(),
  decidedAt: z.string().nullable(),
  /**
   * Who decided: a user's id, `policy` (the binding's `--permission allow|deny`) or `timeout`; null
   * while pending, or when the run ended before anyone decided.
   */
  decidedBy: z.string().nullable(),
  /** Whether the gateway has confirmed that the waiting agent got the decision. */
  answered: z.boolean(),
});
export type Approval = z.infer<typeof approvalSchema>;

export const listApprovalsQuerySchema = z.strictObject({
  status: z.enum(approvalStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
