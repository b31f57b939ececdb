/**
 * `GET /v1/agents/reachability` (every agent: live, queue-only or unreachable, and how) and
 * `POST /v1/agents/:ref/ping` (the same for one agent, with the round trip to its gateway).
 * Mounted before `/v1/agents/:ref`, which would otherwise take `reachability` for an agent's name.
 */
import { Hono } from 'hono';
import { pingRequestSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { refuseGateway } from '../auth/roles.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function reachabilityRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.use('*', async (c, next) => {
    refuseGateway(caller(c), 'read reachability or ping agents');
    await next();
  });

  app.get('/reachability', async (c) => c.json(await ctx.reachability.all(caller(c))));

  app.post('/:ref/ping', async (c) => {
    // The body is optional: a bare POST pings with the default timeout.
    const input = c.req.header('content-type') ? await jsonBody(c, pingRequestSchema) : {};
    return c.json(await ctx.reachability.ping(caller(c), c.req.param('ref'), input.timeoutMs));
  });

  return app;
}
