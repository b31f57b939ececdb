/**
 * The per-run MCP server behind Claude Code's `--permission-prompt-tool`, called as Claude calls it
 * (MCP Streamable HTTP, the bearer secret from its config file): allow and deny in Claude's answer
 * format, keep-alive notifications while a person decides, and nothing for a caller without the
 * secret.
 */
import { readFileSync, statSync, existsSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { servePermissionPrompt, type AskPerson } from '../src/providers/permission-prompt.ts';

interface Config {
  mcpServers: { gantry: { url: string; headers: Record<string, string> } };
}

async function connect(configPath: string, headers?: Record<string, string>) {
  const { gantry } = (JSON.parse(readFileSync(configPath, 'utf8')) as Config).mcpServers;
  const client = new Client({ name: 'test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(gantry.url), {
    requestInit: { headers: headers ?? gantry.headers },
  });
  await client.connect(transport);
  return client;
}

const call = (client: Client) =>
  client.callTool({
    name: 'permission_prompt',
    arguments: { tool_name: 'Bash', input: { command: 'touch x' }, tool_use_id: 'toolu_1' },
  });

const answerOf = (result: Awaited<ReturnType<typeof call>>) =>
  JSON.parse((result.content as { text: string }[])[0]?.text ?? '') as unknown;

describe('the permission prompt server', () => {
  it('answers allow with the input, or deny with the reason, as the person decided', async () => {
    const asked: Parameters<AskPerson>[0][] = [];
    let answer: Awaited<ReturnType<AskPerson>> = { behavior: 'allow' };
    const server = await servePermissionPrompt(async (request) => {
      asked.push(request);
      return answer;
    });
    try {
      expect(statSync(server.configPath).mode & 0o777).toBe(0o600);
      const client = await connect(server.configPath);
      expect(answerOf(await call(client))).toEqual({
        behavior: 'allow',
        updatedInput: { command: 'touch x' },
      });
      answer = { behavior: 'deny', message: 'no' };
      expect(answerOf(await call(client))).toEqual({ behavior: 'deny', message: 'no' });
      expect(asked[0]).toEqual({ tool: 'Bash', input: { command: 'touch x' }, toolUseId: 'toolu_1' });
      await client.close();
    } finally {
      await server.close();
    }
    expect(existsSync(server.configPath)).toBe(false);
  });

  it('keeps the response stream alive while a person decides', async () => {
    const server = await servePermissionPrompt(async () => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      return { behavior: 'allow' };
    }, 100);
    try {
      const client = await connect(server.configPath);
      let pings = 0;
      client.setNotificationHandler(LoggingMessageNotificationSchema, () => void (pings += 1));
      await call(client);
      expect(pings).toBeGreaterThanOrEqual(3);
      await client.close();
    } finally {
      await server.close();
    }
  });

  it('refuses a caller without the run secret', async () => {
    const server = await servePermissionPrompt(async () => ({ behavior: 'allow' }));
    try {
      await expect(connect(server.configPath, { Authorization: 'Bearer guess' })).rejects.toThrow(/POSTing/);
      const { url } = (JSON.parse(readFileSync(server.configPath, 'utf8')) as Config).mcpServers.gantry;
      const res = await fetch(url, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
