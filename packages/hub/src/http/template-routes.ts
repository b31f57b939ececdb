/** `GET /v1/templates`: the template catalogue `agents add` picks from (`POST /v1/agents/add`). */
import { Hono } from 'hono';
import type { HubContext } from '../context.ts';
import { refuseGateway } from '../auth/roles.ts';
import { caller, type HubEnv } from './request.ts';

export function templateRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', (c) => {
    refuseGateway(caller(c), 'read templates'); // users and agents may read the catalogue
    return c.json(ctx.templates.list());
  });
  return app;
}
