/**
 * Claude Code's `--permission-prompt-tool`, served by the gateway for one run: an MCP server on
 * loopback (Streamable HTTP, stateless) with one tool, `permission_prompt`. Claude calls it with
 * `{tool_name, input, tool_use_id}` whenever its own rules would ask a person; the tool asks the
 * run's permission desk (a hub approval with `--permission ask`) and answers with Claude's contract:
 * the text `{"behavior":"allow","updatedInput":...}` or `{"behavior":"deny","message":...}`.
 * Only the run's Claude can call it: every request must carry the run's random bearer secret, which
 * reaches Claude in a 0600 config file, never on its command line. While a person decides, the
 * response stream gets a log notification every `keepAliveMs`: Claude Code's HTTP client (Bun's
 * fetch) drops a response that sends nothing for 300 s, whatever the MCP timeouts say.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { version } from '@gantry/protocol';
import { writePrivateFile } from '@gantry/protocol/node';

/** The server's name in Claude's MCP config and the tool's: Claude calls it `mcp__gantry__permission_prompt`. */
export const promptToolName = 'mcp__gantry__permission_prompt';
/** Claude's own cap on one tool call; the desk's timeout (GANTRY_PERMISSION_TIMEOUT_MS) ends a wait first. */
const toolCallTimeoutMs = 24 * 60 * 60 * 1000;
const maxBodyBytes = 4 * 1024 * 1024;
const defaultKeepAliveMs = 60_000;

export type PromptAnswer = { behavior: 'allow' } | { behavior: 'deny'; message: string };

/** What the tool asks: a tool's name and input, and Claude's id of the call when it gives one. */
export type AskPerson = (call: {
  tool: string;
  input: Record<string, unknown>;
  toolUseId: string | undefined;
}) => Promise<PromptAnswer>;

export interface PromptServer {
  /** Pass to Claude as `--mcp-config PATH`. */
  configPath: string;
  close(): Promise<void>;
}

export async function servePermissionPrompt(
  ask: AskPerson,
  keepAliveMs = defaultKeepAliveMs,
): Promise<PromptServer> {
  const secret = randomBytes(32).toString('base64url');
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.once('close', () => open.delete(res));
    handle(req, res, secret, ask, keepAliveMs).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'gantry-prompt-'));
  const configPath = join(dir, 'mcp.json');
  const config = {
    mcpServers: {
      gantry: {
        type: 'http',
        url: `http://127.0.0.1:${port}/mcp`,
        headers: { Authorization: `Bearer ${secret}` },
        timeout: toolCallTimeoutMs,
      },
    },
  };
  writePrivateFile(configPath, JSON.stringify(config));
  return {
    configPath,
    close: () =>
      new Promise<void>((resolve) => {
        rmSync(dir, { recursive: true, force: true });
        for (const res of open) res.destroy();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  secret: string,
  ask: AskPerson,
  keepAliveMs: number,
) {
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
  if (!sameSecret(token, secret)) return void res.writeHead(401).end();
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
  const body = await readJson(req);
  if (body === undefined) return void res.writeHead(400).end();
  const mcp = new McpServer({ name: 'gantry', version }, { capabilities: { tools: {}, logging: {} } });
  mcp.registerTool(
    'permission_prompt',
    {
      description: 'Asks the person behind this Gantry run whether a tool may run.',
      inputSchema: {
        tool_name: z.string(),
        input: z.record(z.string(), z.unknown()),
        tool_use_id: z.string().optional(),
      },
    },
    async (args, extra): Promise<CallToolResult> => {
      const ping = setInterval(() => {
        const params = { level: 'info' as const, logger: 'gantry', data: 'waiting for a person to decide' };
        extra.sendNotification({ method: 'notifications/message', params }).catch(() => undefined);
      }, keepAliveMs);
      const answer = await ask({
        tool: args.tool_name,
        input: args.input,
        toolUseId: args.tool_use_id,
      }).finally(() => clearInterval(ping));
      const reply = answer.behavior === 'allow' ? { behavior: 'allow', updatedInput: args.input } : answer;
      return { content: [{ type: 'text', text: JSON.stringify(reply) }] };
    },
  );
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.once('close', () => void mcp.close());
  await mcp.connect(transport);
  await transport.handleRequest(req, res, body);
}

function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
