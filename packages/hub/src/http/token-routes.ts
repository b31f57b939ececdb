/** `/v1/tokens`: create, list and revoke tokens (an agent's key rotates under `/v1/agents`). */
import { Hono } from 'hono';
import { createTokenSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { createToken, listTokens, revokeToken } from '../domain/tokens.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function tokenRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', async (c) => c.json(await listTokens(ctx.store, caller(c), caller(c).tokenId)));
  app.post('/', async (c) => {
    const input = await jsonBody(c, createTokenSchema);
    return c.json(await createToken(ctx.store, caller(c), input), 201);
  });
  app.post('/:id/revoke', async (c) =>
    c.json(await revokeToken(ctx, caller(c), c.req.param('id'), caller(c).tokenId)),
  );
  return app;
}
