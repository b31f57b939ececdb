/**
 * How a Gantry MCP tool is declared: a strict zod input schema (validated by the SDK before the
 * handler runs), a handler returning a JSON object, and errors as MCP tool errors (`isError`),
 * never a JSON-RPC failure or an HTTP 500.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { GantryError, type Logger } from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import type { HubContext } from '../context.ts';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What every tool group gets: the hub, the authenticated caller, and where to register. */
export interface ToolScope {
  ctx: HubContext;
  caller: Caller;
  server: McpServer;
}

export interface ToolSpec<Shape extends z.ZodRawShape> {
  title: string;
  description: string;
  input: Shape;
  /** Only reads (hint for clients that ask before running a tool that changes things). */
  readOnly?: boolean;
}

export function defineTool<Shape extends z.ZodRawShape>(
  scope: ToolScope,
  name: string,
  spec: ToolSpec<Shape>,
  run: (args: z.infer<z.ZodObject<Shape>>, extra: ToolExtra) => Promise<Record<string, unknown>>,
): void {
  scope.server.registerTool(
    name,
    {
      title: spec.title,
      description: spec.description,
      // Strict: a misspelled argument is an error the caller sees, not silently dropped.
      inputSchema: z.strictObject(spec.input),
      annotations: { readOnlyHint: spec.readOnly === true, openWorldHint: false },
    },
    async (args: unknown, extra: ToolExtra): Promise<CallToolResult> => {
      try {
        return toolResult(await run(args as z.infer<z.ZodObject<Shape>>, extra));
      } catch (err) {
        return toolError(err, name, scope.ctx.log);
      }
    },
  );
}

export function toolResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/** A Gantry error keeps its message (prefixed by its code); anything else is logged and hidden. */
export function toolError(err: unknown, tool: string, log: Logger): CallToolResult {
  let text: string;
  if (err instanceof GantryError && err.code !== 'internal') {
    text = `${err.code}: ${err.message}`;
  } else {
    log.error('mcp tool failed', { tool, error: (err as Error)?.message ?? String(err) });
    text = 'internal: internal error';
  }
  return { content: [{ type: 'text', text }], isError: true };
}

/** Seconds from a tool argument, as milliseconds. */
export const seconds = (value: number | undefined) =>
  value === undefined ? undefined : Math.round(value * 1000);

/**
 * While a tool waits, tells a client that asked for progress (a `progressToken`) that the call is
 * alive, so clients that reset their timeout on progress do not give up on a long wait.
 */
export function keepAlive(extra: ToolExtra, message: string, everyMs = 10_000): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  let progress = 0;
  const timer = setInterval(() => {
    extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: ++progress, message },
      })
      .catch(() => {});
  }, everyMs);
  return () => clearInterval(timer);
}
