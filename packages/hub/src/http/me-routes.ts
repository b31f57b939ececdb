/** `GET /v1/me`: who the credential speaks for, and in which workspace. */
import { Hono } from 'hono';
import type { Me } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { caller, type HubEnv } from './request.ts';

export function meRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', async (c) => {
    const who = caller(c);
    const workspace = await ctx.store.users.getWorkspace(who.workspaceId);
    const me: Me = {
      principal: { kind: who.kind, id: who.id, name: who.name, role: who.role },
      workspace: { id: who.workspaceId, name: workspace?.name ?? '' },
    };
    return c.json(me);
  });
  return app;
}
