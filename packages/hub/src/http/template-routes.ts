/**
 * `GET /v1/templates` (the template catalogue), `POST /v1/agents/add` (an agent from a template,
 * bound on a gateway for a managed one) and `DELETE /v1/agents/:ref` (remove an agent).
 * Mounted at `/v1` before `/v1/agents/:ref`.
 */
import { Hono } from 'hono';
import { addAgentSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { refuseGateway } from '../auth/roles.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function templateRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.get('/templates', (c) => {
    refuseGateway(caller(c), 'read templates'); // users and agents may read the catalogue
    return c.json(ctx.templates.list());
  });

  app.post('/agents/add', async (c) => {
    const input = await jsonBody(c, addAgentSchema);
    return c.json(await ctx.templates.add(caller(c), input), 201);
  });

  app.delete('/agents/:ref', async (c) => c.json(await ctx.templates.remove(caller(c), c.req.param('ref'))));

  return app;
}
