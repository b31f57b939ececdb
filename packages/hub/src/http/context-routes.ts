/**
 * `/v1/context`: workspace context entries. A key is one path segment (a `/` in it is sent as
 * `%2F`): `PUT /:key` `{ value }` sets a value, `PUT /:key/file` streams the body in as a file,
 * `GET /:key` is the entry (with a value entry's value), `GET /:key/file` streams the bytes back,
 * `GET /?prefix=P` lists, `DELETE /:key` removes. Both PUTs enforce their own size limits instead of
 * the API's 1 MiB one (see `ownBodyLimit`).
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  contextKeySchema,
  GantryError,
  httpStatus,
  listContextQuerySchema,
  parseOrThrow,
  setContextSchema,
} from '@gantry/protocol';
import * as z from 'zod';
import type { HubContext } from '../context.ts';
import { caller, jsonBody, query, type HubEnv } from './request.ts';

const entryPath = /^\/v1\/context\/[^/]+(\/file)?$/;

/** True for the requests whose body these routes limit themselves (a file may be far past 1 MiB). */
export function ownBodyLimit(method: string, path: string): boolean {
  return method === 'PUT' && entryPath.test(path);
}

/** A MIME type such as `text/markdown; charset=utf-8`. */
const contentTypePattern = /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"]*"|[\w.+-]+))*$/;

export function contextRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const store = ctx.contextEntries;
  const key = (c: Context<HubEnv>) => parseOrThrow(contextKeySchema, c.req.param('key'), 'key');
  // The value's size is checked in bytes by the store; this only bounds the JSON carrying it
  // (escaping can take up to 6 bytes per character).
  const valueBody = bodyLimit({
    maxSize: store.limits.maxValueBytes * 6 + 4096,
    onError: (c) => {
      c.header('Connection', 'close');
      const error = store.valueTooLarge(`more than ${store.limits.maxValueBytes} bytes`);
      return c.json(error.toWire(), httpStatus[error.code] as ContentfulStatusCode);
    },
  });
  const valueSchema = setContextSchema.extend({ value: z.string() });

  app.get('/', async (c) => c.json(await store.list(caller(c), query(c, listContextQuerySchema))));
  app.get('/:key', async (c) => c.json(await store.get(caller(c), key(c))));
  app.put('/:key', valueBody, async (c) => {
    const { value } = await jsonBody(c, valueSchema);
    return c.json(await store.set(caller(c), key(c), value));
  });
  app.delete('/:key', async (c) => c.json(await store.delete(caller(c), key(c))));

  app.put('/:key/file', async (c) => {
    const who = caller(c);
    const name = key(c);
    const type = c.req.header('content-type')?.trim() || 'application/octet-stream';
    if (type.length > 200 || !contentTypePattern.test(type))
      throw new GantryError('invalid_request', `'${type.slice(0, 80)}' is not a content type`);
    const length = c.req.header('transfer-encoding') ? undefined : c.req.header('content-length');
    try {
      const entry = await store.upload(who, name, {
        body: () => c.req.raw.body,
        contentType: type,
        declaredSize: length === undefined ? undefined : Number(length),
      });
      return c.json(entry);
    } catch (err) {
      // Unlike other errors this one keeps the connection: the server drains what the client
      // still sends, so the client reads this answer instead of a reset connection.
      if (err instanceof GantryError && err.code === 'payload_too_large') return c.json(err.toWire(), 413);
      throw err;
    }
  });
  app.get('/:key/file', async (c) => {
    const { entry, body } = await store.open(caller(c), key(c));
    // The uploader chose the type: a browser must never render it on the hub's origin (an HTML or
    // SVG file would run script next to the dashboard's session), so it is always a download.
    return c.body(body, 200, {
      'content-type': entry.contentType,
      'content-disposition': `attachment; filename="${downloadName(entry.key)}"`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      'content-length': String(entry.size),
      ...(entry.sha256 ? { 'x-content-sha256': entry.sha256 } : {}),
    });
  });

  return app;
}

/** The last part of a key, as a file name safe inside a quoted header value. */
function downloadName(key: string): string {
  const name = key.split('/').pop() || 'file';
  return name.replace(/[^\w.-]+/g, '_');
}
