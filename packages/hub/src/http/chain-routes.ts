/**
 * `/v1/chains`: the chains the caller may see (`GET /`, `?state=stopped`), a chain's tree (`GET /:id`),
 * letting a stopped one go on (`POST /:id/continue`) or leaving it stopped (`POST /:id/dismiss`).
 */
import { Hono } from 'hono';
import { continueChainSchema, listChainsQuerySchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { listChains } from '../domain/chain-list.ts';
import { chainView } from '../domain/chain-view.ts';
import { caller, jsonBody, query, type HubEnv } from './request.ts';

export function chainRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.get('/', async (c) =>
    c.json(await listChains(ctx.store, ctx.chains, caller(c), query(c, listChainsQuerySchema))),
  );

  app.get('/:id', async (c) => {
    const chain = await ctx.chains.visible(caller(c), c.req.param('id'));
    return c.json(await chainView(ctx.store, ctx.chains, chain));
  });

  app.post('/:id/continue', async (c) => {
    const input = await jsonBody(c, continueChainSchema);
    const chain = await ctx.chains.continue(caller(c), c.req.param('id'), input);
    return c.json(await chainView(ctx.store, ctx.chains, chain));
  });

  app.post('/:id/dismiss', async (c) => {
    const chain = await ctx.chains.dismiss(caller(c), c.req.param('id'));
    return c.json(await chainView(ctx.store, ctx.chains, chain));
  });

  return app;
}
