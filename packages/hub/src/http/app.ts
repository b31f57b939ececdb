/** The hub's REST API under `/v1` (DESIGN §8), built from its context so tests can run it in-process. */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { GantryError, httpStatus, toGantryError, type ErrorCode } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { actInWorkspace } from '../domain/users.ts';
import { mcpRoutes } from '../mcp/routes.ts';
import { activityRoutes } from './activity-routes.ts';
import { agentRoutes } from './agent-routes.ts';
import { approvalRoutes } from './approval-routes.ts';
import { assignmentRoutes } from './assignment-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { authRoutes } from './auth-routes.ts';
import { authenticateRequest } from './authenticate-request.ts';
import { contextRoutes, ownBodyLimit } from './context-routes.ts';
import { gatewayRoutes } from './gateway-routes.ts';
import { stopRoutes } from './stop-routes.ts';
import { chainRoutes } from './chain-routes.ts';
import { handoffRoutes } from './handoff-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { inboxRoutes } from './inbox-routes.ts';
import { meRoutes } from './me-routes.ts';
import { messageRoutes } from './message-routes.ts';
import { limitBody, type HubEnv } from './request.ts';
import { taskRoutes } from './task-routes.ts';
import { templateRoutes } from './template-routes.ts';
import { tokenRoutes } from './token-routes.ts';
import { userRoutes } from './user-routes.ts';
import { webSessionRoutes } from './web-session-routes.ts';
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

  // The rest of the body is never read, so the connection cannot be reused: close it.
  const tooLarge = (c: Context<HubEnv>) => {
    c.header('Connection', 'close');
    return c.json(fail('payload_too_large', `the body is larger than ${maxBodyBytes} bytes`), 413);
  };
  const limit = limitBody(maxBodyBytes, tooLarge, bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge }));
  // Context PUTs limit their own bodies: a file upload streams into the store, up to its own limit.
  app.use('/v1/*', (c, next) => (ownBodyLimit(c.req.method, c.req.path) ? next() : limit(c, next)));

  app.use('/v1/*', async (c, next) => {
    if (publicRoute(c)) return next();
    const who = await authenticateRequest(ctx, c);
    // A person who belongs to several workspaces picks one per request (`gantry --workspace`).
    c.set('caller', await actInWorkspace(ctx.store, who, c.req.header('x-gantry-workspace')));
    await next();
  });

  // One router per resource, each at its own prefix: the order below does not matter.
  app.route('/v1/health', healthRoutes(ctx));
  app.route('/v1/me', meRoutes(ctx));
  app.route('/v1/auth', authRoutes(ctx));
  app.route('/v1/agents', agentRoutes(ctx));
  app.route('/v1/templates', templateRoutes(ctx));
  app.route('/v1/gateways', gatewayRoutes(ctx));
  app.route('/v1/audit', auditRoutes(ctx));
  app.route('/v1/users', userRoutes(ctx));
  app.route('/v1/workspaces', workspaceRoutes(ctx));
  app.route('/v1/tokens', tokenRoutes(ctx));
  app.route('/v1/assignments', assignmentRoutes(ctx));
  app.route('/v1/approvals', approvalRoutes(ctx));
  app.route('/v1/tasks', taskRoutes(ctx));
  app.route('/v1/context', contextRoutes(ctx));
  app.route('/v1/messages', messageRoutes(ctx));
  app.route('/v1/inbox', inboxRoutes(ctx));
  app.route('/v1/events', activityRoutes(ctx));
  app.route('/v1/handoffs', handoffRoutes(ctx));
  app.route('/v1', stopRoutes(ctx));
  app.route('/v1/chains', chainRoutes(ctx));
  app.route('/v1/web', webSessionRoutes(ctx));
  app.route('/mcp', mcpRoutes(ctx));
  // Every GET outside `/v1` and `/mcp` is the dashboard's.
  app.route('/', webRoutes(ctx.web.webRoot));
  return app;
}

/** What needs no credential: the health check, and signing in to the dashboard (which is how one gets one). */
function publicRoute(c: Context<HubEnv>): boolean {
  const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
  const { path } = c.req;
  return (method === 'GET' && path === '/v1/health') || (method === 'POST' && path === '/v1/web/session');
}

function fail(code: ErrorCode, message: string) {
  return new GantryError(code, message).toWire();
}
