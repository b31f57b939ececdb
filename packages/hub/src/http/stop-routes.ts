/** `/v1/stop` and `/v1/resume` with `{ "all": true }`: the workspace's emergency brake and its release. */
import { Hono } from 'hono';
import { stopAllSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function stopRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.post('/stop', async (c) => {
    await jsonBody(c, stopAllSchema);
    return c.json(await ctx.stopping.stopAll(caller(c)));
  });

  app.post('/resume', async (c) => {
    await jsonBody(c, stopAllSchema);
    return c.json(await ctx.stopping.resumeAll(caller(c)));
  });

  return app;
}
