/** The hub's REST API under `/v1` (DESIGN §8), built from its context so tests can run it in-process. */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  createAgentSchema,
  gatewayConnectSchema,
  GantryError,
  httpStatus,
  toGantryError,
  version,
  type ErrorCode,
  type Health,
  type Me,
} from '@gantry/protocol';
import { issueToken, requireUser } from '../auth/authenticate.ts';
import { refuseGateway, requireRole } from '../auth/roles.ts';
import type { HubContext } from '../context.ts';
import { actInWorkspace } from '../domain/users.ts';
import { agentViews, connectGateway, createAgent, findAgentOrThrow, gatewayViews } from '../domain/agents.ts';
import { mcpRoutes } from '../mcp/routes.ts';
import { activityRoutes } from './activity-routes.ts';
import { approvalRoutes } from './approval-routes.ts';
import { authRoutes } from './auth-routes.ts';
import { assignmentRoutes } from './assignment-routes.ts';
import { authenticateRequest } from './authenticate-request.ts';
import { contextRoutes, ownBodyLimit } from './context-routes.ts';
import { deviceRoutes } from './device-routes.ts';
import { folderRoutes } from './folder-routes.ts';
import { handoffRoutes } from './handoff-routes.ts';
import { listenerEventRoutes } from './listener-event-routes.ts';
import { messageRoutes } from './message-routes.ts';
import { pauseRoutes } from './pause-routes.ts';
import { reachabilityRoutes } from './reachability-routes.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';
import { taskRoutes } from './task-routes.ts';
import { templateRoutes } from './template-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import { userRoutes } from './user-routes.ts';
import { webSessionRoutes, webSignInRoutes } from './web-session-routes.ts';
import { webRoutes } from './web-static.ts';
import { workspaceRoutes } from './workspace-routes.ts';

export const maxBodyBytes = 1024 * 1024;

export function createApp(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.onError((err, c) => {
    const error = toGantryError(err);
    // The body may be left unread (refused before it was needed): such a connection cannot be reused.
    c.header('Connection', 'close');
    if (error.code === 'internal')
      ctx.log.error('request failed', { path: c.req.path, error: error.message });
    const body =
      error.code === 'internal' ? new GantryError('internal', 'internal error').toWire() : error.toWire();
    return c.json(body, httpStatus[error.code] as ContentfulStatusCode);
  });
  app.notFound((c) => {
    c.header('Connection', 'close');
    return c.json(new GantryError('not_found', `no route ${c.req.method} ${c.req.path}`).toWire(), 404);
  });

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    // The rest of the body is never read, so the connection cannot be reused: close it.
    onError: (c) => {
      c.header('Connection', 'close');
      return c.json(fail('payload_too_large', `the body is larger than ${maxBodyBytes} bytes`), 413);
    },
  });
  // Context PUTs limit their own bodies: a file upload streams into the store, up to its own limit.
  app.use('/v1/*', (c, next) => (ownBodyLimit(c.req.method, c.req.path) ? next() : limitBody(c, next)));

  app.get('/v1/health', async (c) => {
    await ctx.store.getMeta('schema'); // proves the store answers
    const health: Health = { ok: true, version, store: ctx.store.kind, uptimeMs: Date.now() - ctx.startedAt };
    return c.json(health);
  });

  // Signing in needs no credential yet: before the authentication below.
  app.route('/v1/web', webSignInRoutes(ctx));
  app.use('/v1/*', async (c, next) => {
    const who = await authenticateRequest(ctx, c);
    // A person who belongs to several workspaces picks one per request (`gantry --workspace`).
    c.set('caller', await actInWorkspace(ctx.store, who, c.req.header('x-gantry-workspace')));
    await next();
  });

  app.route('/v1/auth', authRoutes(ctx));
  app.get('/v1/me', async (c) => {
    const who = caller(c);
    const workspace = await ctx.store.getWorkspace(who.workspaceId);
    const me: Me = {
      principal: { kind: who.kind, id: who.id, name: who.name, role: who.role },
      workspace: { id: who.workspaceId, name: workspace?.name ?? '' },
    };
    return c.json(me);
  });

  // Before `/v1/agents/:ref`, which would take `reachability` (or `add`) for an agent's name.
  app.route('/v1/agents', reachabilityRoutes(ctx));
  app.route('/v1', templateRoutes(ctx));
  app.get('/v1/agents', async (c) => {
    const who = caller(c);
    refuseGateway(who, 'list agents');
    return c.json(await agentViews(ctx.store, await ctx.store.listAgents(who.workspaceId)));
  });
  app.post('/v1/agents', async (c) => {
    const input = await jsonBody(c, createAgentSchema);
    const { agent, key } = await createAgent(ctx.store, caller(c), input);
    return c.json({ ...agent, key }, 201);
  });
  app.get('/v1/agents/:ref', async (c) => {
    refuseGateway(caller(c), 'read agents');
    const agent = await findAgentOrThrow(ctx.store, caller(c), c.req.param('ref'));
    return c.json((await agentViews(ctx.store, [agent]))[0]);
  });

  app.post('/v1/agents/:ref/keys', async (c) => {
    const who = caller(c);
    requireRole(who, 'admin', "mint an agent's key");
    const agent = await findAgentOrThrow(ctx.store, who, c.req.param('ref'));
    const key = await issueToken(ctx.store, 'agent', agent.id, who.workspaceId);
    return c.json({ agent: { id: agent.id, name: agent.name }, key }, 201);
  });

  app.post('/v1/gateways/connect', async (c) => {
    const input = await jsonBody(c, gatewayConnectSchema);
    return c.json(await connectGateway(ctx.store, caller(c), input, ctx.devices));
  });
  app.get('/v1/gateways', async (c) => {
    const who = caller(c);
    requireUser(who);
    return c.json(await gatewayViews(ctx.store, ctx.links, who.workspaceId));
  });

  app.route('/v1/agents', pauseRoutes(ctx));
  app.route('/v1/users', userRoutes(ctx));
  app.route('/v1/workspaces', workspaceRoutes(ctx));
  app.route('/v1', tokenRoutes(ctx));
  app.route('/v1/assignments', assignmentRoutes(ctx));
  app.route('/v1/approvals', approvalRoutes(ctx));
  app.route('/v1', deviceRoutes(ctx));
  app.route('/v1/gateways/folders', folderRoutes(ctx));
  app.route('/v1/tasks', taskRoutes(ctx));
  app.route('/v1/context', contextRoutes(ctx));
  app.route('/v1', messageRoutes(ctx));
  app.route('/v1/events', activityRoutes(ctx));
  app.route('/v1/events', listenerEventRoutes(ctx));
  app.route('/v1/handoffs', handoffRoutes(ctx));
  app.route('/v1/web', webSessionRoutes(ctx));
  app.route('/mcp', mcpRoutes(ctx));
  // Last: every other GET is the dashboard's.
  app.route('/', webRoutes(ctx.web.webRoot));
  return app;
}

function fail(code: ErrorCode, message: string) {
  return new GantryError(code, message).toWire();
}
