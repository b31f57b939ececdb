/** Request helpers shared by the routes: the caller, and JSON bodies checked against a schema. */
import type { Context } from 'hono';
import type { z } from 'zod';
import { GantryError, parseJson, parseOrThrow } from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';

export interface HubEnv {
  Variables: { caller: Caller };
}

export function caller(c: Context<HubEnv>): Caller {
  return c.get('caller');
}

export async function jsonBody<T extends z.ZodType>(c: Context<HubEnv>, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new GantryError('invalid_request', 'the body must be JSON (Content-Type: application/json)');
  }
  return parseOrThrow(schema, parseJson(await c.req.text()), 'body');
}

export function query<T extends z.ZodType>(c: Context<HubEnv>, schema: T): z.infer<T> {
  return parseOrThrow(schema, c.req.query(), 'query');
}
