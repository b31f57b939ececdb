/** A gateway as `gantry gateways show` sees it (device, trust per agent, bindings), and the audit log. */
import * as z from 'zod';
import { bindingSummarySchema } from './frames.ts';
import { gatewaySchema } from './resources.ts';

export const gatewayDetailSchema = gatewaySchema.extend({
  /** The device key's fingerprint and the host and OS user it last proved; null for a keyless gateway. */
  device: z
    .object({ fingerprint: z.string(), hostname: z.string(), osUser: z.string(), createdAt: z.string() })
    .nullable(),
  /** `trusted` when every attached agent is, else `pending` or `denied` for the first that is not. */
  approval: z.enum(['trusted', 'pending', 'denied', 'unknown']),
  agents: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      provider: z.string().nullable(),
      trust: z.enum(['trusted', 'pending', 'denied', 'unknown']),
      approvalId: z.string().nullable(),
      binding: bindingSummarySchema.omit({ agentId: true }).nullable(),
    }),
  ),
});
export type GatewayDetail = z.infer<typeof gatewayDetailSchema>;

export const auditEntrySchema = z.object({
  id: z.string(),
  ts: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  data: z.unknown(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const listAuditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
