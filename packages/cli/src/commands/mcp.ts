/**
 * `gantry mcp`: the hub's MCP tools as a stdio MCP server, for an agent session on this machine.
 * It is a proxy: it lists the tools of the hub's `/mcp` endpoint and forwards each call there with
 * the CLI's credential, so both transports run exactly the same tools. Standard output carries
 * JSON-RPC only; anything else goes to standard error. Run in a folder registered with
 * `gantry local init` (and no --token or GANTRY_TOKEN), it acts as that folder's agent through the
 * local gateway, which holds the key.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { version } from '@gantry/protocol';
import { resolveHub, type HubOptions } from '../credentials.ts';
import { findFolderConfig } from '../folder-config.ts';
import { findLocalGateway } from '../local-gateway.ts';
import { ExitError, exitCodes } from '../output.ts';

/** A call is given up when the hub says nothing for this long (waits send progress every 10 s). */
const silenceMs = 120_000;

export async function mcp(options: HubOptions): Promise<void> {
  const hub = target(options);
  // Each forwarded call's HTTP request ends when the call does (cancelled, timed out): the hub then
  // stops its wait, so a cancelled `read_inbox` never takes mail that nobody will see.
  const callSignal = new AsyncLocalStorage<AbortSignal>();
  const transport = new StreamableHTTPClientTransport(new URL(hub.endpoint), {
    requestInit: { headers: hub.headers },
    fetch: (url, init) => {
      const signal = callSignal.getStore();
      return fetch(url, signal ? { ...init, signal: anySignal(init?.signal, signal) } : init);
    },
  });
  const client = new Client({ name: 'gantry-mcp', version });
  client.onerror = (err) => debug(`hub connection: ${err.message}`);
  try {
    await client.connect(transport);
  } catch (err) {
    throw startError(err, hub.url);
  }

  const server = new Server(
    { name: 'gantry', title: 'Gantry', version },
    { capabilities: { tools: {} }, instructions: client.getInstructions() },
  );
  // Calls still running when standard input ends are answered before the process exits.
  const running = new Set<Promise<unknown>>();
  const track = <T>(call: Promise<T>): Promise<T> => {
    running.add(call);
    return call.finally(() => running.delete(call));
  };
  const forward = async (
    request: CallToolRequest,
    extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
  ): Promise<CallToolResult> => {
    const ended = new AbortController();
    const token = extra._meta?.progressToken;
    try {
      return (await callSignal.run(ended.signal, () =>
        client.callTool(request.params, undefined, {
          signal: extra.signal,
          timeout: silenceMs,
          resetTimeoutOnProgress: true,
          // Asking for progress makes the hub report it during waits, which keeps the call alive.
          onprogress: (progress) => {
            if (token === undefined) return;
            extra
              .sendNotification({
                method: 'notifications/progress',
                params: { ...progress, progressToken: token },
              })
              .catch(() => {});
          },
        }),
      )) as CallToolResult;
    } catch (err) {
      return {
        content: [{ type: 'text', text: `the hub at ${hub.url} did not answer: ${(err as Error).message}` }],
        isError: true,
      };
    } finally {
      ended.abort();
    }
  };

  server.setRequestHandler(ListToolsRequestSchema, (request, extra) =>
    track(client.listTools(request.params, { signal: extra.signal })),
  );
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => track(forward(request, extra)));

  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(new StdioServerTransport());
  await closed;
  // Requests read just before the end start on the next turns; answers are written after them.
  do {
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.allSettled([...running]);
  } while (running.size > 0);
  await new Promise((resolve) => setImmediate(resolve));
  await server.close();
  await client.close();
}

/** Where the tools come from: the hub as this credential, or the local gateway as the folder's agent. */
function target(options: HubOptions): { url: string; endpoint: string; headers: Record<string, string> } {
  const folder = options.token || process.env.GANTRY_TOKEN ? undefined : findFolderConfig();
  if (folder) {
    const gateway = findLocalGateway();
    return {
      url: gateway.url,
      endpoint: `${gateway.url}/api/local/hub/mcp`,
      headers: { authorization: `Bearer ${gateway.token}`, 'x-gantry-folder': folder.root },
    };
  }
  const hub = resolveHub(options);
  if (!hub.token) {
    throw new ExitError(
      exitCodes.auth,
      'no credential: pass --token, set GANTRY_TOKEN (e.g. an agent key) or log in with `gantry login`',
    );
  }
  const headers: Record<string, string> = { authorization: `Bearer ${hub.token}` };
  if (hub.workspace) headers['x-gantry-workspace'] = hub.workspace;
  return { url: hub.url, endpoint: `${hub.url}/mcp`, headers };
}

function anySignal(a: AbortSignal | null | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

function startError(err: unknown, url: string): ExitError {
  if (err instanceof StreamableHTTPError && err.code === 401) {
    return new ExitError(
      exitCodes.auth,
      `the hub at ${url} refused the credential (missing, unknown or revoked token): ` +
        'pass --token, set GANTRY_TOKEN or log in with `gantry login`',
    );
  }
  if (err instanceof StreamableHTTPError && err.code === 403) {
    // The local gateway: the folder's agent is not approved (or was denied).
    const detail = /"message":"([^"]*)"/.exec(err.message)?.[1] ?? err.message;
    return new ExitError(exitCodes.auth, detail);
  }
  if (err instanceof StreamableHTTPError && err.code === 404) {
    return new ExitError(
      exitCodes.failure,
      `the hub at ${url} does not serve MCP at /mcp (is it up to date?)`,
    );
  }
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  return new ExitError(
    exitCodes.unreachable,
    `cannot reach the hub at ${url} (${cause}); is it running? Start one with \`gantry up\`, or pass --hub URL`,
  );
}

function debug(line: string): void {
  if (process.env.GANTRY_DEBUG) process.stderr.write(`gantry mcp: ${line}\n`);
}
