/**
 * `POST /v1/events`: an agent reports what only it can see into the workspace's activity log —
 * `gantry listen` says its local queue was full. Only `listener.*` types, and only as the agent
 * itself, so no caller can forge the hub's own entries.
 */
import { Hono } from 'hono';
import { appendEventSchema, GantryError } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function listenerEventRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.post('/', async (c) => {
    const who = caller(c);
    if (who.kind !== 'agent')
      throw new GantryError('forbidden', 'only an agent posts listener events (use its key)');
    const input = await jsonBody(c, appendEventSchema);
    const event = await ctx.activity.append({
      workspaceId: who.workspaceId,
      type: input.type,
      actor: { kind: 'agent', id: who.id, name: who.name },
      subject: input.subject ?? null,
      data: input.data ?? {},
    });
    return c.json(event, 201);
  });

  return app;
}
