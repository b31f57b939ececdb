/**
 * `/mcp` authenticates like `/v1` (issue 10, item 10), against a real hub with the MCP SDK's own
 * client: `X-Gantry-Workspace` picks one of a person's workspaces (and is refused for one they are
 * not in, or for an agent key), and a long wait (`read_inbox`, `assign`, `handoff`) ends as soon
 * as its token is revoked, as the `/v1` long polls do (handoff waits included).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createdAgentSchema,
  createdTokenSchema,
  createdWorkspaceSchema,
  messageSchema,
} from '../../protocol/src/index.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

let temp: TempHub;
const clients: Client[] = [];

beforeAll(async () => {
  temp = await startTempHub('gantry-mcp-auth-');
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await temp?.stop();
});

async function api(path: string, init: { token?: string; json?: unknown; workspace?: string } = {}) {
  const res = await fetch(`${temp.hub.url}${path}`, {
    method: init.json === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${init.token ?? temp.ownerToken}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.workspace ? { 'x-gantry-workspace': init.workspace } : {}),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function mcp(token: string, workspace?: string): Promise<Client> {
  const client = new Client({ name: 'mcp-auth-test', version: '1.0.0' });
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (workspace) headers['x-gantry-workspace'] = workspace;
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${temp.hub.url}/mcp`), { requestInit: { headers } }),
  );
  clients.push(client);
  return client;
}

const text = (result: CallToolResult) => (result.content[0] as { text: string }).text;

/** A fresh personal token of the owner, and its id for revoking it. */
async function ownToken(): Promise<{ id: string; secret: string }> {
  const created = createdTokenSchema.parse((await api('/v1/tokens', { json: {} })).body);
  return { id: created.token.id, secret: created.secret };
}

describe('X-Gantry-Workspace on /mcp', () => {
  it('acts in the workspace it names, for a person who belongs to it', async () => {
    const research = createdWorkspaceSchema.parse(
      (await api('/v1/workspaces', { json: { name: 'research' } })).body,
    );
    const client = await mcp(temp.ownerToken, 'research');
    const sent = (await client.callTool({
      name: 'send_message',
      arguments: { text: 'in research' },
    })) as CallToolResult;
    expect(sent.isError, text(sent)).toBeFalsy();
    const message = messageSchema.parse((sent.structuredContent as { message: unknown }).message);
    expect(message.workspaceId).toBe(research.workspace.id);

    const there = messageSchema.array().parse((await api('/v1/messages', { workspace: 'research' })).body);
    expect(there.map((m) => m.id)).toContain(message.id);
    const home = messageSchema.array().parse((await api('/v1/messages')).body);
    expect(home.map((m) => m.id)).not.toContain(message.id);
  });

  it('refuses a workspace the person is not in, and any other workspace for an agent key', async () => {
    await expect(mcp(temp.ownerToken, 'nowhere')).rejects.toThrow(/not a member of workspace 'nowhere'/);
    const agent = createdAgentSchema.parse(
      (await api('/v1/agents', { json: { name: 'mcp-auth-agent' } })).body,
    );
    await expect(mcp(agent.key, 'research')).rejects.toThrow(/acts only in its own workspace/);
  });
});

describe('long waits on /mcp end when their token is revoked', () => {
  beforeAll(async () => {
    // Managed and never served (no gateway): its work waits, and a handoff to it waits for a reply.
    await api('/v1/agents', { json: { name: 'idle' } });
  });

  it.each([
    ['read_inbox', { wait: 60 }],
    ['assign', { agent: 'idle', prompt: 'never runs', wait: 60 }],
    ['handoff', { agent: 'idle', task: 'nobody answers', adaptiveWait: false, timeoutSeconds: 60 }],
  ])('%s', async (name, args) => {
    const token = await ownToken();
    const client = await mcp(token.secret);
    const started = Date.now();
    const waiting = client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await api(`/v1/tokens/${token.id}/revoke`, { json: {} })).status).toBe(200);
    const result = await waiting;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.isError).toBe(true);
    expect(text(result)).toBe('unauthorized: token revoked');
  });
});

describe('handoff waits on /v1 end when their token is revoked', () => {
  it('answers the waiting request 401', async () => {
    const token = await ownToken();
    const started = Date.now();
    const waiting = api('/v1/handoffs', {
      token: token.secret,
      json: { agent: 'idle', prompt: 'anyone?', adaptive: false, waitMs: 60_000 },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api(`/v1/tokens/${token.id}/revoke`, { json: {} });
    expect(await waiting).toEqual({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'token revoked' } },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
