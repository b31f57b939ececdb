/** `/v1/tasks`: create, list, show and update tasks; users and agents (as themselves). */
import { Hono } from 'hono';
import { createTaskSchema, listTasksQuerySchema, updateTaskSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { caller, jsonBody, query, type HubEnv } from './request.ts';

export function taskRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.get('/', async (c) => {
    const q = query(c, listTasksQuerySchema);
    return c.json(
      await ctx.tasks.list(caller(c), { mine: q.mine === 'true', status: q.status, limit: q.limit }),
    );
  });
  app.post('/', async (c) => {
    const input = await jsonBody(c, createTaskSchema);
    return c.json(await ctx.tasks.create(caller(c), input), 201);
  });
  app.get('/:id', async (c) => c.json(await ctx.tasks.get(caller(c), c.req.param('id'))));
  app.patch('/:id', async (c) => {
    const patch = await jsonBody(c, updateTaskSchema);
    return c.json(await ctx.tasks.update(caller(c), c.req.param('id'), patch));
  });

  return app;
}
