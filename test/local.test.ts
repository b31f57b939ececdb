// Pass-through agents (DESIGN §5): a folder registered through the local gateway starts pending, a
// person approves it, then `gantry local ...` and `gantry mcp` in the folder act as its agent through
// the gateway, which alone holds the key. And the local boundary: the new routes refuse a foreign
// Host, a cross-site Origin, a form body and a missing token.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@gantry/protocol';
import { cliPath, Sandbox, type CliResult } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';

interface LocalFolder {
  status: string;
  agent: { id: string; name: string };
  approvalId: string;
  next?: string;
}

describe('pass-through agents', () => {
  const box = new Sandbox();
  let api: string;
  let localToken: string;
  const folder = join(box.home, 'project');
  const other = join(box.home, 'denied');

  beforeAll(async () => {
    mkdirSync(join(folder, 'src', 'deep'), { recursive: true });
    mkdirSync(other, { recursive: true });
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'runner');
    const gateway = box.start(
      ['gateway', 'run', '--server-url', ready.url, '--provider', 'echo', '--port', '0', '--json'],
      { GANTRY_API_KEY: agent.key },
    );
    api = (await gateway.ready<{ localApiUrl: string }>()).localApiUrl;
    localToken = readFileSync(join(box.home, 'config', 'local-api.token'), 'utf8').trim();
  });
  afterAll(() => box.cleanup());

  /** A command run in `cwd`, as a user in that folder would (no flags). */
  function runIn(cwd: string, args: string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      const proc = spawn(process.execPath, [cliPath, ...args], { cwd, env: box.env() });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      proc.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('init is pending until an owner approves, then the folder speaks as its agent', async () => {
    const init = await box.json<LocalFolder & { config: string }>([
      'local',
      'init',
      'scout',
      '--workdir',
      folder,
    ]);
    expect(init).toMatchObject({ status: 'pending', agent: { name: 'scout' } });
    expect(init.config).toBe(join(folder, '.gantry', 'config.toml'));
    const config = readFileSync(init.config, 'utf8');
    expect(config).toContain('name = "scout"');
    expect(config).not.toMatch(/gnt_/);

    // Pending: says what to do; nothing can act as the agent yet.
    const pending = JSON.parse(
      (await runIn(join(folder, 'src', 'deep'), ['local', 'connect', '--json'])).stdout,
    );
    expect(pending).toMatchObject({ status: 'pending', approvalId: init.approvalId });
    expect(pending.next).toBe(`ask an owner or admin: gantry approvals approve ${init.approvalId}`);
    const early = await box.run(['local', 'send', '--workdir', folder, 'too early']);
    expect(early.code).toBe(4);
    expect(early.stderr).toContain('is not connected yet');

    // The owner sees it as a pending approval of kind `folder`, and approves it.
    const approvals = await box.json<{ id: string; kind: string; status: string; subject: string }[]>([
      'approvals',
      'list',
      '--status',
      'pending',
    ]);
    const approval = approvals.find((a) => a.id === init.approvalId);
    expect(approval).toMatchObject({ kind: 'folder', status: 'pending' });
    expect(approval?.subject).toContain(folder);
    expect((await box.run(['approvals', 'approve', init.approvalId])).code).toBe(0);

    const connected = JSON.parse((await runIn(folder, ['local', 'connect', '--json'])).stdout);
    expect(connected).toMatchObject({ status: 'connected', agent: { name: 'scout' } });
    expect(JSON.stringify(connected)).not.toMatch(/gnt_/);

    // Sent from below the folder with no flags: authored by the pass-through agent.
    const sent = await runIn(join(folder, 'src'), ['local', 'send', 'hello from the folder', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout).author).toMatchObject({ kind: 'agent', name: 'scout' });
    // Other commands in the folder still act as the logged-in user.
    const me = JSON.parse((await runIn(folder, ['send', 'as me', '--json'])).stdout);
    expect(me.message.author).toMatchObject({ kind: 'user' });

    // A wait in the folder gets a message mentioning the agent.
    const waiting = runIn(folder, ['local', 'inbox', '--wait', '20s', '--json']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await box.run(['send', '@scout please look'])).code).toBe(0);
    const box1 = await waiting;
    expect(box1.code, box1.stderr).toBe(0);
    const mail = JSON.parse(box1.stdout) as { messages: { body: string }[] };
    expect(mail.messages.map((m) => m.body)).toContain('@scout please look');
  });

  it('a task assigned to the pass-through agent or a person reaches them as a message; local tasks lists it', async () => {
    const task = await box.json<Task>(['tasks', 'create', 'review the login page', '--assign', 'scout']);
    const inbox = JSON.parse((await runIn(folder, ['local', 'inbox', '--json'])).stdout) as {
      messages: { body: string; metadata: Record<string, unknown> }[];
    };
    expect(inbox.messages.find((m) => m.metadata.taskId === task.id)?.body).toBe(
      `Task ${task.id} for you (medium): review the login page`,
    );
    const listed = JSON.parse((await runIn(folder, ['local', 'tasks', '--json'])).stdout) as Task[];
    expect(listed.map((t) => t.id)).toEqual([task.id]);
    const text = await runIn(folder, ['local', 'tasks']);
    expect(text.stdout).toMatch(
      new RegExp(`^${task.id}\\s+open\\s+medium\\s+\\S+\\s+review the login page$`, 'm'),
    );
    // A person hears of a task given to them too.
    const mia = await box.json<{ token: string }>(['users', 'add', 'mia']);
    const forMia = await box.json<Task>(['tasks', 'create', 'sign the release', '--assign', 'mia']);
    const mail = await box.json<{ messages: { body: string }[] }>(['inbox'], { GANTRY_TOKEN: mia.token });
    expect(mail.messages.map((m) => m.body)).toContain(
      `Task ${forMia.id} for you (medium): sign the release`,
    );
  });

  it('refuses a second name from the same folder', async () => {
    const again = await box.run(['local', 'init', 'other-name', '--workdir', folder]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already registered as agent 'scout'");
    // Through the gateway directly (no folder file check on the CLI side): refused there too.
    const direct = await fetch(`${api}/api/local/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${localToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other-name', workdir: folder }),
    });
    expect(direct.status).toBe(409);
  });

  it('a denied folder says denied and never acts', async () => {
    const init = await box.json<LocalFolder>(['local', 'init', 'lurker', '--workdir', other]);
    expect((await box.run(['approvals', 'deny', init.approvalId])).code).toBe(0);
    const denied = await box.run(['local', 'connect', '--workdir', other, '--json']);
    expect(denied.code).toBe(4);
    expect(JSON.parse(denied.stdout)).toMatchObject({ status: 'denied', approvalId: init.approvalId });
    const send = await box.run(['local', 'send', '--workdir', other, 'hi']);
    expect(send.code).toBe(4);
    expect(send.stderr).toContain('was denied');
  });

  it('gantry mcp in the folder acts as its agent; channel setup writes .mcp.json without a token', async () => {
    const setup = await box.json<{ file: string }>(['channel', 'setup', 'scout', '--workdir', folder]);
    const mcpJson = JSON.parse(readFileSync(setup.file, 'utf8')) as {
      mcpServers: { gantry: { command: string; args: string[]; cwd: string } };
    };
    expect(mcpJson.mcpServers.gantry).toMatchObject({ args: ['mcp'], cwd: folder });
    expect(readFileSync(setup.file, 'utf8')).not.toMatch(/gnt_|token/i);

    const { command, args, cwd } = mcpJson.mcpServers.gantry;
    const transport = new StdioClientTransport({
      command,
      args,
      cwd,
      env: box.env() as Record<string, string>,
    });
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('send_message');
      const result = await client.callTool({ name: 'send_message', arguments: { text: 'via mcp' } });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      const [content] = result.content as { type: string; text: string }[];
      expect(JSON.parse(content?.text ?? '{}')).toMatchObject({
        message: { author: { kind: 'agent', name: 'scout' } },
      });
    } finally {
      await client.close();
    }
  });

  it('no secret in the folder', () => {
    const files = readdirSync(join(folder, '.gantry')).map((f) => join(folder, '.gantry', f));
    for (const file of [...files, join(folder, '.mcp.json')]) {
      expect(readFileSync(file, 'utf8')).not.toMatch(/gnt_[uag]_/);
    }
  });

  describe('the local boundary', () => {
    function call(method: string, path: string, headers: Record<string, string>, body?: string) {
      return new Promise<number>((resolve, reject) => {
        const req = request(`${api}${path}`, { method, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    }
    const auth = () => ({ authorization: `Bearer ${localToken}` });
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify({ name: 'x', workdir: '/tmp' });

    it('the new routes need the local token', async () => {
      expect(await call('POST', '/api/local/agents', json, body)).toBe(401);
      expect(await call('POST', '/api/local/agents/connect', json, JSON.stringify({ workdir: folder }))).toBe(
        401,
      );
      expect(await call('GET', '/api/local/hub/v1/inbox', { 'x-gantry-folder': folder })).toBe(401);
      expect(
        await call(
          'POST',
          '/api/local/hub/mcp',
          { ...json, authorization: 'Bearer wrong', 'x-gantry-folder': folder },
          '{}',
        ),
      ).toBe(401);
    });

    it('refuses a foreign Host, a cross-site Origin and a form body', async () => {
      expect(
        await call('POST', '/api/local/agents', { ...auth(), ...json, host: 'evil.example:80' }, body),
      ).toBe(403);
      expect(
        await call('POST', '/api/local/agents', { ...auth(), ...json, origin: 'https://evil.example' }, body),
      ).toBe(403);
      const form = { ...auth(), 'content-type': 'application/x-www-form-urlencoded' };
      expect(await call('POST', '/api/local/agents', form, 'name=x&workdir=/tmp')).toBe(400);
      const forwarded = { ...form, 'x-gantry-folder': folder };
      expect(await call('POST', '/api/local/hub/v1/messages', forwarded, 'body=hi')).toBe(400);
    });

    it('forwards only the agent’s own paths, and approves nothing', async () => {
      const headers = { ...auth(), ...json, 'x-gantry-folder': folder };
      expect(await call('POST', `/api/local/hub/v1/approvals/x/approve`, headers, '{}')).toBe(404);
      expect(await call('GET', '/api/local/hub/v1/tokens', headers)).toBe(404);
      expect(await call('GET', '/api/local/hub/v1/inbox', headers)).toBe(200);
    });
  });
});
