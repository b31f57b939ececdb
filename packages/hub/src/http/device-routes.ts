/** `GET /v1/gateways/:id` (a gateway with its device, trust and bindings) and `GET /v1/audit`. */
import { Hono } from 'hono';
import { GantryError, listAuditQuerySchema, type AuditEntry, type GatewayDetail } from '@gantry/protocol';
import { requireUser } from '../auth/authenticate.ts';
import type { HubContext } from '../context.ts';
import { gatewayViews } from '../domain/agents.ts';
import { requireAdmin } from '../domain/devices.ts';
import { iso } from '../domain/views.ts';
import { caller, query, type HubEnv } from './request.ts';

const trustOf = { approved: 'trusted', pending: 'pending', denied: 'denied' } as const;

export function deviceRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.get('/gateways/:id', async (c) => {
    const who = caller(c);
    requireUser(who);
    const ref = c.req.param('id');
    const gateway = (await gatewayViews(ctx.store, ctx.links, who.workspaceId)).find(
      (g) => g.id === ref || g.name === ref,
    );
    if (!gateway) throw new GantryError('not_found', `no gateway named or with id '${ref}'`);
    const device = await ctx.devices.get(gateway.id);
    const grants = await ctx.devices.grantsOf(gateway.id);
    const bindings = await ctx.devices.bindingsOf(gateway.id);
    const agents = gateway.agents.map((a) => {
      const grant = grants.get(a.id);
      const binding = bindings[a.id];
      return {
        ...a,
        trust: grant ? trustOf[grant.status as keyof typeof trustOf] : ('unknown' as const),
        approvalId: grant?.id ?? null,
        binding: binding
          ? { provider: binding.provider, workdir: binding.workdir, isolation: binding.isolation }
          : null,
      };
    });
    const detail: GatewayDetail = {
      ...gateway,
      device: device
        ? {
            fingerprint: device.fingerprint,
            hostname: device.hostname,
            osUser: device.os_user,
            createdAt: iso(device.created_at) as string,
          }
        : null,
      approval:
        agents.find((a) => a.trust === 'denied')?.trust ??
        agents.find((a) => a.trust === 'pending')?.trust ??
        (agents.length > 0 && agents.every((a) => a.trust === 'trusted') ? 'trusted' : 'unknown'),
      agents,
    };
    return c.json(detail);
  });

  app.get('/audit', async (c) => {
    const who = caller(c);
    requireAdmin(who, 'read the audit log');
    const { limit } = query(c, listAuditQuerySchema);
    const rows = await ctx.store.listAudit(who.workspaceId, limit ?? 100);
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
