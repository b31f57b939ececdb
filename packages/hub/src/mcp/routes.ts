/**
 * `/mcp`: MCP over Streamable HTTP, stateless. Each POST is authenticated like `/v1` (a person in
 * several workspaces picks one with `X-Gantry-Workspace`) and served by
 * a fresh server and transport for that caller, so any hub process can answer any request (several
 * hubs behind one PostgreSQL need no shared MCP sessions). Responses stream as SSE, whose
 * keep-alive comments hold a long wait (`read_inbox`, `assign`) open through proxies and clients'
 * idle timeouts. GET (a server-to-client stream) and DELETE (ending a session) have nothing to do
 * without sessions: 405, as the transport specification allows.
 */
import { Hono, type Context } from 'hono';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { GantryError, parseJson } from '@gantry/protocol';
import { authenticate } from '../auth/authenticate.ts';
import type { HubContext } from '../context.ts';
import { actInWorkspace } from '../domain/users.ts';
import type { HubEnv } from '../http/request.ts';
import { createMcpServer } from './server.ts';

export function mcpRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  // Room for the largest tool input, a context value, even fully escaped in JSON (6 bytes a char).
  const maxBodyBytes = Math.max(1024 * 1024, ctx.contextEntries.limits.maxValueBytes * 6 + 64 * 1024);

  app.use('*', async (c, next) => {
    // Browsers send Origin; one from another site is refused (DNS rebinding, in the spec's words).
    const origin = c.req.header('origin');
    if (origin && !sameHost(origin, c.req.header('host'))) {
      return rpcError(c, 403, -32000, `origin ${origin} is not allowed`);
    }
    const token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
    try {
      c.set('caller', await authenticate(ctx.store, token));
    } catch (err) {
      if (err instanceof GantryError && err.code === 'unauthorized') {
        c.header('WWW-Authenticate', 'Bearer realm="gantry"');
        return rpcError(c, 401, -32001, `${err.message}: send an agent key or user token as a Bearer token`);
      }
      throw err;
    }
    // A gateway token speaks only on the gateway WebSocket and its own REST routes (DESIGN §5).
    if (c.get('caller').kind === 'gateway') {
      return rpcError(c, 403, -32000, 'a gateway token cannot use MCP: send an agent key or user token');
    }
    try {
      c.set('caller', await actInWorkspace(ctx.store, c.get('caller'), c.req.header('x-gantry-workspace')));
    } catch (err) {
      if (err instanceof GantryError && err.code === 'forbidden')
        return rpcError(c, 403, -32000, err.message);
      throw err;
    }
    await next();
  });

  app.post('/', async (c) => {
    const server = createMcpServer(ctx, c.get('caller'));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      maxRequestBodySize: maxBodyBytes,
    });
    // The body is read here, not by the transport, to hold it to the nesting limit (deep JSON-RPC
    // params would otherwise reach the tools); other content types are the transport's to refuse.
    let parsedBody: unknown;
    if (/^application\/json\b/i.test(c.req.header('content-type') ?? '')) {
      const text = await readText(c.req.raw, maxBodyBytes);
      if (text === undefined) {
        c.header('Connection', 'close'); // the rest of the body is never read
        return rpcError(c, 413, -32000, `the body is larger than ${maxBodyBytes} bytes`);
      }
      try {
        parsedBody = parseJson(text, 'the JSON-RPC message');
      } catch (err) {
        return rpcError(c, 400, -32700, `Parse error: ${(err as Error).message}`);
      }
    }
    await server.connect(transport);
    // A client that goes away ends its calls' waits (their abort signals fire).
    c.req.raw.signal.addEventListener('abort', () => void server.close(), { once: true });
    return transport.handleRequest(c.req.raw, parsedBody === undefined ? undefined : { parsedBody });
  });

  app.on(['GET', 'DELETE'], '/', (c) => {
    c.header('Allow', 'POST');
    return rpcError(
      c,
      405,
      -32000,
      'method not allowed: this MCP server is stateless, POST JSON-RPC to /mcp',
    );
  });

  return app;
}

/** The body as text, or undefined once it is longer than `limit` bytes (the rest is not read). */
async function readText(req: Request, limit: number): Promise<string | undefined> {
  if (!req.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function rpcError(c: Context<HubEnv>, status: 400 | 401 | 403 | 405 | 413, code: number, message: string) {
  return c.json({ jsonrpc: '2.0', error: { code, message }, id: null }, status);
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
