/** `/v1/tokens` (create, list, revoke) and `POST /v1/agents/:ref/rotate-key`. */
import { Hono } from 'hono';
import { createTokenSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { createToken, listTokens, revokeToken, rotateAgentKey } from '../domain/tokens.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function tokenRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/tokens', async (c) => c.json(await listTokens(ctx.store, caller(c))));
  app.post('/tokens', async (c) => {
    const input = await jsonBody(c, createTokenSchema);
    return c.json(await createToken(ctx.store, caller(c), input), 201);
  });
  app.post('/tokens/:id/revoke', async (c) => c.json(await revokeToken(ctx, caller(c), c.req.param('id'))));
  app.post('/agents/:ref/rotate-key', async (c) =>
    c.json(await rotateAgentKey(ctx, caller(c), c.req.param('ref')), 201),
  );
  return app;
}
