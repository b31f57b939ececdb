/**
 * `/v1/agents`: list and create agents, add one from a template (bound on a gateway for a managed
 * one), show and remove one, mint or rotate its key, pause and resume it, and how each is reached
 * (`GET /reachability`, `POST /:ref/ping` with the round trip to its gateway). A gateway token takes
 * no part in any of it.
 */
import { Hono } from 'hono';
import { addAgentSchema, createAgentSchema, pingRequestSchema, rotateKeySchema } from '@gantry/protocol';
import { issueToken } from '../auth/authenticate.ts';
import { refuseGateway, requireRole } from '../auth/roles.ts';
import type { HubContext } from '../context.ts';
import { agentViews, createAgent, findAgentOrThrow } from '../domain/agents.ts';
import { setPaused } from '../domain/pause.ts';
import { rotateAgentKey } from '../domain/tokens.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function agentRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.use('*', async (c, next) => {
    refuseGateway(caller(c), 'read or manage agents');
    await next();
  });

  app.get('/', async (c) => {
    const who = caller(c);
    return c.json(await agentViews(ctx.store, await ctx.store.agents.list(who.workspaceId)));
  });
  app.post('/', async (c) => {
    const input = await jsonBody(c, createAgentSchema);
    const { agent, key } = await createAgent(ctx.store, caller(c), input);
    return c.json({ ...agent, key }, 201);
  });
  // Before `/:ref`, which would take these words for an agent's name.
  app.get('/reachability', async (c) => c.json(await ctx.reachability.all(caller(c))));
  app.post('/add', async (c) => {
    const input = await jsonBody(c, addAgentSchema);
    return c.json(await ctx.templates.add(caller(c), input), 201);
  });

  app.get('/:ref', async (c) => {
    const agent = await findAgentOrThrow(ctx.store, caller(c), c.req.param('ref'));
    return c.json((await agentViews(ctx.store, [agent]))[0]);
  });
  app.delete('/:ref', async (c) => c.json(await ctx.templates.remove(caller(c), c.req.param('ref'))));
  app.post('/:ref/keys', async (c) => {
    const who = caller(c);
    requireRole(who, 'admin', "mint an agent's key");
    const agent = await findAgentOrThrow(ctx.store, who, c.req.param('ref'));
    const key = await issueToken(ctx.store, 'agent', agent.id, who.workspaceId);
    return c.json({ agent: { id: agent.id, name: agent.name }, key }, 201);
  });
  app.post('/:ref/rotate-key', async (c) => {
    // The body is optional: a bare POST rotates to a key that does not expire.
    const input = c.req.header('content-type') ? await jsonBody(c, rotateKeySchema) : {};
    return c.json(await rotateAgentKey(ctx, caller(c), c.req.param('ref'), input), 201);
  });
  app.post('/:ref/ping', async (c) => {
    // The body is optional: a bare POST pings with the default timeout.
    const input = c.req.header('content-type') ? await jsonBody(c, pingRequestSchema) : {};
    return c.json(await ctx.reachability.ping(caller(c), c.req.param('ref'), input.timeoutMs));
  });
  app.post('/:ref/pause', async (c) => c.json(await setPaused(ctx, caller(c), c.req.param('ref'), true)));
  app.post('/:ref/resume', async (c) => c.json(await setPaused(ctx, caller(c), c.req.param('ref'), false)));

  return app;
}
