/**
 * `/v1/handoffs`: hand work to an agent and wait for its reply. Each request waits at most
 * `maxHandoffWaitMs` (under the 300 s a Node client allows a silent response); a client that wants
 * longer asks `GET /v1/handoffs/:id?wait=` again. Waits end with a 401 as soon as the caller's
 * token is revoked or expires.
 */
import { Hono } from 'hono';
import { createHandoffSchema, handoffMessageSchema, handoffQuerySchema } from '@gantry/protocol';
import { untilRevoked } from '../auth/revocation.ts';
import type { HubContext } from '../context.ts';
import { caller, jsonBody, query, type HubEnv } from './request.ts';

export function handoffRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.post('/', async (c) => {
    const input = await jsonBody(c, createHandoffSchema);
    const who = caller(c);
    return c.json(
      await untilRevoked(ctx, who, c.req.raw.signal, (signal) => ctx.handoffs.create(who, input, signal)),
      201,
    );
  });

  app.get('/:id', async (c) => {
    const q = query(c, handoffQuerySchema);
    const who = caller(c);
    return c.json(
      await untilRevoked(ctx, who, c.req.raw.signal, (signal) =>
        ctx.handoffs.wait(who, c.req.param('id'), { wait: q.wait, after: q.after, signal }),
      ),
    );
  });

  app.post('/:id/messages', async (c) => {
    const input = await jsonBody(c, handoffMessageSchema);
    const who = caller(c);
    return c.json(
      await untilRevoked(ctx, who, c.req.raw.signal, (signal) =>
        ctx.handoffs.say(who, c.req.param('id'), input.body, { wait: input.waitMs, signal }),
      ),
      201,
    );
  });

  return app;
}
