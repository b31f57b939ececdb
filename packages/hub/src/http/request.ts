/** Request helpers shared by the routes: the caller, JSON bodies checked against a schema, the client's signal. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Next } from 'hono';
import type { z } from 'zod';
import { GantryError, parseJson, parseOrThrow } from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';

export interface HubEnv {
  Variables: {
    caller: Caller;
    /** The body is still unread in Node's request, its size checked by its Content-Length. */
    bodyInNode?: boolean;
  };
}

/** Node's request and response, when `@hono/node-server` serves the app (not in-process `app.fetch`). */
function nodeOf(c: Context<HubEnv>): { incoming?: IncomingMessage; outgoing?: ServerResponse } {
  return (c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined) ?? {};
}

export function caller(c: Context<HubEnv>): Caller {
  return c.get('caller');
}

/**
 * Refuses a body over `maxBytes` with `tooLarge`. A GET has none; a body with a Content-Length is
 * judged by it and left unread (`bodyText` reads it from Node's request); any other body goes
 * through `streamed` (hono's bodyLimit, which counts what it reads).
 */
export function limitBody(
  maxBytes: number,
  tooLarge: (c: Context<HubEnv>) => Response,
  streamed: (c: Context<HubEnv>, next: Next) => Promise<Response | void>,
) {
  return async (c: Context<HubEnv>, next: Next): Promise<Response | void> => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    if (Number.parseInt(length, 10) > maxBytes) return tooLarge(c);
    c.set('bodyInNode', true);
    return next();
  };
}

/** The body as text: from Node's request when it is still unread there, without a web stream between. */
export function bodyText(c: Context<HubEnv>): Promise<string> {
  const { incoming } = nodeOf(c);
  if (!incoming || !c.get('bodyInNode') || c.req.bodyCache.text) return c.req.text();
  const text = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    incoming.once('error', reject);
  });
  // Whoever reads the body after this gets the same text (the stream is consumed).
  c.req.bodyCache.text = text as unknown as string;
  return text;
}

export async function jsonBody<T extends z.ZodType>(c: Context<HubEnv>, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new GantryError('invalid_request', 'the body must be JSON (Content-Type: application/json)');
  }
  return parseOrThrow(schema, parseJson(await bodyText(c)), 'body');
}

export function query<T extends z.ZodType>(c: Context<HubEnv>, schema: T): z.infer<T> {
  return parseOrThrow(schema, c.req.query(), 'query');
}

/**
 * Aborts when the client goes away before its answer is written. Served by Node, this listens on
 * Node's response rather than building the web Request whose signal says the same.
 */
export function clientSignal(c: Context<HubEnv>): AbortSignal {
  const { outgoing } = nodeOf(c);
  if (!outgoing) return c.req.raw.signal;
  const controller = new AbortController();
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) controller.abort();
  });
  return controller.signal;
}
