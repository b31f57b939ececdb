/** `/v1/chains`: a chain's tree (`GET /:id`) and letting a stopped one go on (`POST /:id/continue`). */
import { Hono } from 'hono';
import { continueChainSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { chainView } from '../domain/chain-view.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function chainRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.get('/:id', async (c) => {
    const chain = await ctx.chains.visible(caller(c), c.req.param('id'));
    return c.json(await chainView(ctx.store, ctx.chains, chain));
  });

  app.post('/:id/continue', async (c) => {
    const input = await jsonBody(c, continueChainSchema);
    const chain = await ctx.chains.continue(caller(c), c.req.param('id'), input);
    return c.json(await chainView(ctx.store, ctx.chains, chain));
  });

  return app;
}
