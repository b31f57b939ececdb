/** `GET /v1/health`: the hub answers and so does its store; needs no credential. */
import { Hono } from 'hono';
import { version, type Health } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import type { HubEnv } from './request.ts';

export function healthRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', async (c) => {
    await ctx.store.meta.get('schema'); // proves the store answers
    const health: Health = {
      ok: true,
      version,
      store: ctx.store.kind,
      hubId: ctx.hubId,
      uptimeMs: Date.now() - ctx.startedAt,
    };
    return c.json(health);
  });
  return app;
}
