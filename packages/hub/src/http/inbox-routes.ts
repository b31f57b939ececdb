/**
 * `GET /v1/inbox`: the caller's inbox, with its long-poll wait (`?wait=`), which ends with a 401 as
 * soon as the caller's token is revoked or expires.
 */
import { Hono } from 'hono';
import { inboxQuerySchema } from '@gantry/protocol';
import { untilRevoked } from '../auth/revocation.ts';
import type { HubContext } from '../context.ts';
import { caller, clientSignal, query, type HubEnv } from './request.ts';

export function inboxRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get('/', async (c) => {
    const q = query(c, inboxQuerySchema);
    const who = caller(c);
    return c.json(
      await untilRevoked(ctx, who, clientSignal(c), (signal) =>
        ctx.mailbox.inbox(who, { wait: q.wait, markRead: q.markRead === 'true', limit: q.limit, signal }),
      ),
    );
  });
  return app;
}
