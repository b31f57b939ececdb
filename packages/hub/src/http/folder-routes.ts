/**
 * `/v1/gateways/folders`: a gateway registers a pass-through folder and asks whether it was
 * approved, with its own token (DESIGN §5). Approving is `/v1/approvals`, for people only.
 */
import { Hono } from 'hono';
import { connectFolderSchema, registerFolderSchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { Folders } from '../domain/folders.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

export function folderRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const folders = new Folders(ctx.store, ctx.notices);

  app.post('/', async (c) =>
    c.json(await folders.register(caller(c), await jsonBody(c, registerFolderSchema))),
  );
  app.post('/:id/connect', async (c) => {
    const { needKey } = await jsonBody(c, connectFolderSchema);
    return c.json(await folders.connect(caller(c), c.req.param('id'), needKey));
  });

  return app;
}
