// MCP: the SDK's own client lists and calls the hub's tools over Streamable HTTP (`/mcp`) and over
// stdio (`gantry mcp`), as the token's owner, with bad input and domain errors as tool errors.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, ContextEntry, Handoff, Inbox, Message, Task } from '@gantry/protocol';
import { cliPath, Sandbox } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';

const toolNames = [
  'assign',
  'create_task',
  'get_context',
  'handoff',
  'list_context',
  'list_tasks',
  'read_inbox',
  'send_message',
  'set_context',
  'update_task',
];

describe('MCP over HTTP and stdio', () => {
  const box = new Sandbox();
  const clients: Client[] = [];
  let url: string;
  let ownerToken: string;
  let scoutKey: string;
  let owner: Client;
  let scout: Client;

  const connect = async (token: string): Promise<Client> => {
    const client = new Client({ name: 'mcp-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const { ready } = await startHub(box);
    url = ready.url;
    ownerToken = ready.ownerToken;
    // A pass-through agent (it polls its inbox; mentions of it run nothing).
    const created = await fetch(`${url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'scout', kind: 'pass_through' }),
    });
    scoutKey = ((await created.json()) as { key: string }).key;
    const echo = await createAgent(box, 'mcp-echo');
    await box
      .start(['gateway', 'run', '--server-url', url, '--provider', 'echo', '--port', '0', '--json'], {
        GANTRY_API_KEY: echo.key,
      })
      .ready();
    owner = await connect(ownerToken);
    scout = await connect(scoutKey);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await box.cleanup();
  });

  const call = async (client: Client, name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const ok = async <T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> => {
    const result = await call(client, name, args);
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    const text = (result.content[0] as { text: string }).text;
    expect(result.structuredContent).toEqual(JSON.parse(text));
    return result.structuredContent as T;
  };
  const errorText = async (client: Client, name: string, args: Record<string, unknown>) => {
    const result = await call(client, name, args);
    expect(result.isError).toBe(true);
    return (result.content[0] as { text: string }).text;
  };

  it('lists every tool with an input schema', async () => {
    const { tools } = await owner.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(toolNames);
    const send = tools.find((t) => t.name === 'send_message');
    expect(send?.inputSchema).toMatchObject({ required: ['text'], additionalProperties: false });
  });

  it('sends as the caller: the owner, then an agent key as that agent', async () => {
    const { message } = await ok<{ message: Message }>(owner, 'send_message', { text: 'hello @scout' });
    expect(message).toMatchObject({ author: { kind: 'user' }, mentions: [{ name: 'scout' }] });
    const listed = await box.json<Message[]>(['messages', 'list']);
    expect(listed.map((m) => m.id)).toContain(message.id);

    const inbox = await ok<Inbox>(scout, 'read_inbox', { markRead: true });
    expect(inbox.messages.map((m) => m.id)).toContain(message.id);
    const reply = await ok<{ message: Message }>(scout, 'send_message', {
      text: 'on it',
      parentId: message.id,
    });
    expect(reply.message).toMatchObject({
      author: { kind: 'agent', name: 'scout' },
      parentId: message.id,
      threadId: message.threadId,
    });
  });

  it('read_inbox with wait is woken by the next message', async () => {
    const waiting = ok<Inbox>(scout, 'read_inbox', { wait: 20 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { message } = await ok<{ message: Message }>(owner, 'send_message', {
      text: 'ping',
      to: ['scout'],
    });
    const inbox = await waiting;
    expect(inbox).toMatchObject({ timedOut: false, messages: [{ id: message.id, body: 'ping' }] });
    // Handed out already: a second wait does not get it again and runs out.
    expect(await ok<Inbox>(scout, 'read_inbox', { wait: 0.2 })).toEqual({ messages: [], timedOut: true });
  });

  it('creates, lists and updates tasks', async () => {
    const { task } = await ok<{ task: Task }>(owner, 'create_task', {
      title: 'write the docs',
      priority: 'high',
      assignee: 'scout',
    });
    expect(task).toMatchObject({ status: 'open', priority: 'high', assignee: { name: 'scout' } });
    const mine = await ok<{ tasks: Task[] }>(scout, 'list_tasks', { mine: true, status: 'open' });
    expect(mine.tasks.map((t) => t.id)).toEqual([task.id]);
    const updated = await ok<{ task: Task }>(scout, 'update_task', { id: task.id, status: 'done' });
    expect(updated.task.status).toBe('done');
    expect((await ok<{ tasks: Task[] }>(owner, 'list_tasks', { status: 'open' })).tasks).toEqual([]);
  });

  it('sets, gets and lists context', async () => {
    const set = await ok<{ entry: ContextEntry }>(scout, 'set_context', { key: 'notes/plan', value: 'v1' });
    expect(set.entry).toMatchObject({ key: 'notes/plan', kind: 'value', size: 2, updatedBy: 'scout' });
    const got = await ok<{ entry: ContextEntry }>(owner, 'get_context', { key: 'notes/plan' });
    expect(got.entry.value).toBe('v1');
    const listed = await ok<{ entries: ContextEntry[] }>(owner, 'list_context', { prefix: 'notes/' });
    expect(listed.entries.map((e) => e.key)).toEqual(['notes/plan']);
  });

  it('assigns to an agent and waits for its result', async () => {
    const done = await ok<{ assignment: Assignment; timedOut: boolean }>(owner, 'assign', {
      agent: 'mcp-echo',
      prompt: 'hello from mcp',
      wait: 30,
    });
    expect(done).toMatchObject({
      timedOut: false,
      assignment: { state: 'succeeded', result: { output: 'echo: hello from mcp' } },
    });
    const queued = await ok<{ assignment: Assignment }>(owner, 'assign', {
      agent: 'mcp-echo',
      prompt: 'later',
    });
    expect(queued.assignment.agent.name).toBe('mcp-echo');
    expect(queued).not.toHaveProperty('timedOut');
  });

  it('hands off: replied by a live agent, queued for one not listening', async () => {
    const replied = await ok<{ handoff: Handoff }>(owner, 'handoff', {
      agent: 'mcp-echo',
      task: 'summarize the plan',
      intent: 'review',
      timeoutSeconds: 30,
    });
    expect(replied.handoff).toMatchObject({
      status: 'replied',
      agent: { name: 'mcp-echo' },
      reply: { author: { name: 'mcp-echo' } },
    });
    expect(replied.handoff.reply?.body).toContain('summarize the plan');
    const task = await box.json<Task>(['tasks', 'show', replied.handoff.taskId ?? '']);
    expect(task).toMatchObject({ intent: 'review', assignee: { name: 'mcp-echo' } });

    const started = Date.now();
    const queued = await ok<{ handoff: Handoff }>(owner, 'handoff', { agent: 'scout', task: 'later' });
    expect(queued.handoff).toMatchObject({ status: 'queued_not_listening', reply: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await errorText(owner, 'handoff', { task: 'no agent' })).toMatch(/^invalid_request: .*agent/);
  });

  it('returns bad input and domain errors as tool errors', async () => {
    expect(await errorText(owner, 'send_message', { text: '' })).toMatch(/Input validation error.*text/s);
    expect(await errorText(owner, 'send_message', { txt: 'typo' })).toMatch(/Input validation error/);
    expect(await errorText(owner, 'send_message', { text: 'hi @nobody-here' })).toMatch(
      /^invalid_request: no agent or user named @nobody-here/,
    );
    expect(await errorText(owner, 'assign', { agent: 'ghost', prompt: 'x' })).toMatch(/^not_found: /);
    expect(await errorText(owner, 'get_context', { key: 'no/such/key' })).toMatch(/^not_found: /);
  });

  it('refuses a request without a valid token with 401', async () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    for (const headers of [{}, { authorization: 'Bearer gnt_u_nope.nope' }] as Record<string, string>[]) {
      const response = await fetch(`${url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify(initialize),
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 }, id: null });
    }
    await expect(connect('gnt_a_nope.nope')).rejects.toThrow();
  });

  it('serves the same tools over stdio with `gantry mcp`, as the agent of GANTRY_TOKEN', async () => {
    const env = Object.fromEntries(
      Object.entries(box.env({ GANTRY_TOKEN: scoutKey, GANTRY_HUB_URL: url })).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    );
    const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [cliPath, 'mcp'], env, stderr: 'pipe' }),
    );
    clients.push(client);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(toolNames);
    const { message } = await ok<{ message: Message }>(client, 'send_message', { text: 'via stdio' });
    expect(message.author).toMatchObject({ kind: 'agent', name: 'scout' });
    expect(await errorText(client, 'send_message', { text: 'hi @nobody-here' })).toMatch(/@nobody-here/);

    // A cancelled wait ends on the hub too: it takes no mail that would then reach nobody.
    await ok<Inbox>(client, 'read_inbox', { wait: 0, markRead: true }); // what earlier tests sent scout
    const cancel = new AbortController();
    const cancelled = client.callTool({ name: 'read_inbox', arguments: { wait: 20 } }, undefined, {
      signal: cancel.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    cancel.abort();
    await expect(cancelled).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { message: later } = await ok<{ message: Message }>(owner, 'send_message', {
      text: 'after the cancel',
      to: ['scout'],
    });
    const inbox = await ok<Inbox>(scout, 'read_inbox', { wait: 5 });
    expect(inbox.messages.map((m) => m.id)).toEqual([later.id]);
  });

  it('`gantry mcp --workspace` acts in that workspace of the person', async () => {
    const created = await box.json<{ workspace: { id: string } }>(['workspaces', 'create', 'mcp-elsewhere']);
    const env = Object.fromEntries(
      Object.entries(box.env({ GANTRY_TOKEN: ownerToken, GANTRY_HUB_URL: url })).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    );
    const client = new Client({ name: 'mcp-stdio-workspace', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [cliPath, 'mcp', '--workspace', 'mcp-elsewhere'],
        env,
        stderr: 'pipe',
      }),
    );
    clients.push(client);
    const { message } = await ok<{ message: Message }>(client, 'send_message', { text: 'elsewhere' });
    expect(message.workspaceId).toBe(created.workspace.id);
  });

  it('`gantry mcp` exits 5 when the hub is unreachable and 4 with a bad credential', async () => {
    const down = await box.run(['mcp', '--hub', 'http://127.0.0.1:9'], { GANTRY_TOKEN: scoutKey });
    expect(down).toMatchObject({ code: 5, stdout: '' });
    expect(down.stderr).toMatch(/^gantry: cannot reach the hub at http:\/\/127\.0\.0\.1:9/);
    const refused = await box.run(['mcp', '--hub', url], { GANTRY_TOKEN: 'gnt_a_nope.nope' });
    expect(refused).toMatchObject({ code: 4, stdout: '' });
    expect(refused.stderr).toMatch(/refused the credential/);
  });
});
