/**
 * `/v1/gateways`: connect one (an agent key registers its gateway), list them, show one with its
 * device, trust and bindings; `/folders` below it is the gateway's own pass-through folders.
 */
import { Hono } from 'hono';
import { GantryError, gatewayConnectSchema, type GatewayDetail } from '@gantry/protocol';
import { requireUser } from '../auth/authenticate.ts';
import type { HubContext } from '../context.ts';
import { connectGateway, gatewayViews } from '../domain/agents.ts';
import { iso } from '../domain/views.ts';
import { folderRoutes } from './folder-routes.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

const trustOf = { approved: 'trusted', pending: 'pending', denied: 'denied' } as const;

export function gatewayRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.post('/connect', async (c) => {
    const input = await jsonBody(c, gatewayConnectSchema);
    return c.json(await connectGateway(ctx.store, caller(c), input, ctx.devices));
  });
  app.get('/', async (c) => {
    const who = caller(c);
    requireUser(who);
    return c.json(await gatewayViews(ctx.store, ctx.links, who.workspaceId));
  });
  app.route('/folders', folderRoutes(ctx));
  app.get('/:id', async (c) => {
    const who = caller(c);
    requireUser(who);
    return c.json(await gatewayDetail(ctx, who.workspaceId, c.req.param('id')));
  });

  return app;
}

/** A gateway by id or name, with its device and each agent's trust and binding. */
async function gatewayDetail(ctx: HubContext, workspaceId: string, ref: string): Promise<GatewayDetail> {
  const gateway = (await gatewayViews(ctx.store, ctx.links, workspaceId)).find(
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
  return {
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
}
