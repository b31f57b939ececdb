/** `GET /v1/audit`: the workspace's audit log, newest first, for owners and admins. */
import { Hono } from 'hono';
import { listAuditQuerySchema, type AuditEntry } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { requireAdmin } from '../domain/devices.ts';
import { iso } from '../domain/views.ts';
import { caller, query, type HubEnv } from './request.ts';

export function auditRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', async (c) => {
    const who = caller(c);
    requireAdmin(who, 'read the audit log');
    const { limit } = query(c, listAuditQuerySchema);
    const rows = await ctx.store.audit.list(who.workspaceId, limit ?? 100);
    return c.json(
      rows.map((row): AuditEntry => ({
        id: row.id,
        ts: iso(row.ts) as string,
        actor: row.actor,
        action: row.action,
        subject: row.subject,
        data: JSON.parse(row.data) as unknown,
      })),
    );
  });
  return app;
}
