/**
 * The CLI's client for this machine's gateway (its local API on 127.0.0.1), found through the
 * address and token it records in the config folder (DESIGN §7). `gantry local ...` and
 * `gantry mcp` in a registered folder act as that folder's agent through it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { errorBodySchema, GantryError, type ErrorCode } from '@gantry/protocol';
import { gantryPaths, processAlive } from '@gantry/protocol/node';
import { ExitError, exitCodes } from './output.ts';

const addressSchema = z.object({ url: z.string(), pid: z.number() });

export interface LocalGateway {
  url: string;
  token: string;
}

/** The running gateway's local API, or a clear error saying how to start one. */
export function findLocalGateway(): LocalGateway {
  const paths = gantryPaths();
  const notRunning = () =>
    new ExitError(
      exitCodes.unreachable,
      `no gateway is running for ${paths.config}: start one with \`gantry gateway start\` (or \`gantry up\`)`,
    );
  if (!existsSync(paths.localApiAddressFile) || !existsSync(paths.localApiTokenFile)) throw notRunning();
  let address;
  try {
    address = addressSchema.parse(JSON.parse(readFileSync(paths.localApiAddressFile, 'utf8')));
  } catch {
    throw notRunning();
  }
  if (!processAlive(address.pid)) throw notRunning();
  return { url: address.url, token: readFileSync(paths.localApiTokenFile, 'utf8').trim() };
}

/** A JSON request to the local API; errors keep the gateway's (or the hub's) code and message. */
export async function localRequest<T extends z.ZodType>(
  gateway: LocalGateway,
  method: string,
  path: string,
  schema: T,
  options: { body?: unknown; folder?: string; timeoutMs?: number } = {},
): Promise<z.infer<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${gateway.token}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.folder) headers['x-gantry-folder'] = options.folder;
  let response: Response;
  try {
    response = await fetch(`${gateway.url}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ExitError(
      exitCodes.unreachable,
      `cannot reach the local gateway at ${gateway.url} (${cause}); is it running?`,
    );
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = errorBodySchema.safeParse(json);
    if (!error.success)
      throw new GantryError('internal', `the local gateway answered HTTP ${response.status}`);
    throw new GantryError(error.data.error.code as ErrorCode, error.data.error.message);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new GantryError('internal', `unexpected answer from the local gateway for ${path}`);
  return parsed.data;
}
