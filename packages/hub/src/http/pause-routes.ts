/** `POST /v1/agents/:ref/pause` and `/resume` (users only). */
import { Hono } from 'hono';
import type { HubContext } from '../context.ts';
import { setPaused } from '../domain/pause.ts';
import { caller, type HubEnv } from './request.ts';

export function pauseRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.post('/:ref/pause', async (c) => c.json(await setPaused(ctx, caller(c), c.req.param('ref'), true)));
  app.post('/:ref/resume', async (c) => c.json(await setPaused(ctx, caller(c), c.req.param('ref'), false)));
  return app;
}
