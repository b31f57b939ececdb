/**
 * `/v1/handoffs`: hand work to an agent and wait for its reply. Each request waits at most
 * `maxHandoffWaitMs` (under the 300 s a Node client allows a silent response); a client that wants
 * longer asks `GET /v1/handoffs/:id?wait=` again.
 */
import { Hono } from 'hono';
import { createHandoffSchema, handoffMessageSchema, handoffQuerySchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { caller, jsonBody, query, type HubEnv } from './request.ts';

export function handoffRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.post('/', async (c) => {
    const input = await jsonBody(c, createHandoffSchema);
    return c.json(await ctx.handoffs.create(caller(c), input, c.req.raw.signal), 201);
  });

  app.get('/:id', async (c) => {
    const q = query(c, handoffQuerySchema);
    return c.json(
      await ctx.handoffs.wait(caller(c), c.req.param('id'), {
        wait: q.wait,
        after: q.after,
        signal: c.req.raw.signal,
      }),
    );
  });

  app.post('/:id/messages', async (c) => {
    const input = await jsonBody(c, handoffMessageSchema);
    return c.json(
      await ctx.handoffs.say(caller(c), c.req.param('id'), input.body, {
        wait: input.waitMs,
        signal: c.req.raw.signal,
      }),
      201,
    );
  });

  return app;
}
