/** `/v1/users`: list, add (its token shown once) and remove the workspace's users. */
import { Hono } from 'hono';
import { createUserSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { addUser, listUsers, removeUser } from '../domain/users.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function userRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', async (c) => c.json(await listUsers(ctx.store, caller(c))));
  app.post('/', async (c) => {
    const input = await jsonBody(c, createUserSchema);
    return c.json(await addUser(ctx.store, caller(c), input), 201);
  });
  app.delete('/:ref', async (c) => c.json(await removeUser(ctx, caller(c), c.req.param('ref'))));
  return app;
}
