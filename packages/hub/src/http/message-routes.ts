/**
 * `/v1/messages`: send, list, show, mark read, and wait for a reply (the caller's inbox is
 * `/v1/inbox`). A gateway token takes no part in messages (403).
 */
import { Hono } from 'hono';
import { listMessagesQuerySchema, messageReplyQuerySchema, sendMessageSchema } from '@gantry/protocol';
import { untilRevoked } from '../auth/revocation.ts';
import type { HubContext } from '../context.ts';
import { caller, clientSignal, jsonBody, query, type HubEnv } from './request.ts';

export function messageRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.post('/', async (c) => {
    const input = await jsonBody(c, sendMessageSchema);
    return c.json(await ctx.messages.send(caller(c), input), 201);
  });

  app.get('/', async (c) => {
    const q = query(c, listMessagesQuerySchema);
    return c.json(
      await ctx.mailbox.list(caller(c), {
        unread: q.unread === 'true',
        markRead: q.markRead === 'true',
        thread: q.thread,
        limit: q.limit,
      }),
    );
  });

  app.post('/read-all', async (c) => c.json({ marked: await ctx.mailbox.readAll(caller(c)) }));

  app.get('/:id', async (c) => c.json(await ctx.mailbox.get(caller(c), c.req.param('id'))));

  app.post('/:id/read', async (c) => c.json(await ctx.mailbox.read(caller(c), c.req.param('id'))));

  // Waits end with a 401 as soon as the caller's token is revoked or expires.
  app.get('/:id/reply', async (c) => {
    const q = query(c, messageReplyQuerySchema);
    const who = caller(c);
    return c.json(
      await untilRevoked(ctx, who, clientSignal(c), (signal) =>
        ctx.mailbox.reply(who, c.req.param('id'), {
          wait: q.wait,
          from: q.from
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          signal,
        }),
      ),
    );
  });

  return app;
}
