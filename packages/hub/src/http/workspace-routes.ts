/** `/v1/workspaces`: the caller's workspaces, and a new one owned by the caller. */
import { Hono } from 'hono';
import { createWorkspaceSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { createWorkspace, listWorkspaces } from '../domain/users.ts';
import { refuseGateway } from '../auth/roles.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function workspaceRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', async (c) => {
    refuseGateway(caller(c), 'list workspaces');
    return c.json(await listWorkspaces(ctx.store, caller(c)));
  });
  app.post('/', async (c) => {
    const { name } = await jsonBody(c, createWorkspaceSchema);
    return c.json(await createWorkspace(ctx.store, caller(c), name), 201);
  });
  return app;
}
