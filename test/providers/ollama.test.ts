// The ollama provider against a fake Ollama server on loopback: streamed replies, the shell tool
// (approved and denied), model errors, continuing a saved conversation, cancel, and the check.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ollamaProvider } from '../../packages/gateway/src/providers/ollama.ts';
import type { Provider } from '../../packages/gateway/src/providers/provider.ts';
import type { ProviderSettings } from '../../packages/gateway/src/providers/settings.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { fakeOllamaVersion, startOllamaChat } from '../fake-models/ollama-chat.ts';
import { eventsOf, runDirect } from './direct.ts';

const graces = { interruptMs: 500, terminateMs: 500 };

describe('ollama provider', () => {
  let fake: FakeModel;
  let settings: ProviderSettings;
  let stateDir: string;
  let provider: Provider;
  /** How many model requests came before this test (the fake records them all). */
  let before = 0;

  beforeAll(async () => {
    fake = await startOllamaChat();
    settings = { ollamaUrl: fake.url, ollamaModel: 'qwen-test', permission: 'allow' };
    stateDir = join(mkdtempSync(join(tmpdir(), 'gantry-ollama-')), 'state');
    provider = ollamaProvider({ bin: undefined, graces, settings, stateDir });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.script([]);
    before = fake.requests.length;
  });
  const requestsMade = () => fake.requests.length - before;

  const run = (prompt: string, extra: Partial<Parameters<typeof runDirect>[1]> = {}) =>
    runDirect(provider, { prompt, settings, ...extra });

  it('streams a text reply and reports session and usage', async () => {
    fake.script([{ kind: 'text', text: 'hello from the model' }]);
    const result = await run('say hello');

    expect(result.outcome).toMatchObject({
      status: 'succeeded',
      output: 'hello from the model',
      exitCode: 0,
    });
    const id = result.outcome.sessionId!;
    expect(eventsOf(result, 'session')).toEqual([{ id, provider: 'ollama' }]);
    expect(
      eventsOf(result, 'message_delta')
        .map((d) => d.text)
        .join(''),
    ).toBe('hello from the model');
    expect(eventsOf(result, 'message').map((d) => d.text)).toEqual(['hello from the model']);
    const [usage] = eventsOf(result, 'usage');
    expect(usage?.inputTokens).toBeGreaterThan(0);
    expect(usage?.outputTokens).toBeGreaterThan(0);
    expect(result.outcome.details?.usage).toEqual({
      inputTokens: usage?.inputTokens,
      outputTokens: usage?.outputTokens,
    });

    const body = fake.requests.at(-1)?.body as {
      model: string;
      stream: boolean;
      tools: { function: { name: string } }[];
    };
    expect(body).toMatchObject({ model: 'qwen-test', stream: true });
    expect(body.tools.map((t) => t.function.name)).toEqual(['shell']);
    const file = join(stateDir, `${id}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
  });

  it('runs an approved shell command in the workdir and sends its output back', async () => {
    fake.script([
      { kind: 'shell', command: 'echo made > made.txt && echo done-writing', then: 'I wrote made.txt' },
    ]);
    const workdir = mkdtempSync(join(tmpdir(), 'gantry-ollama-work-'));
    const result = await run('write a file', { workdir });

    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'I wrote made.txt' });
    expect(readFileSync(join(workdir, 'made.txt'), 'utf8')).toBe('made\n');
    expect(result.permissions).toEqual([
      { requestId: expect.any(String), tool: 'shell', input: 'echo made > made.txt && echo done-writing' },
    ]);
    const [started] = eventsOf(result, 'tool_started');
    expect(started).toMatchObject({ name: 'shell', input: 'echo made > made.txt && echo done-writing' });
    expect(eventsOf(result, 'tool_finished')).toEqual([
      {
        id: started?.id,
        name: 'shell',
        status: 'completed',
        exitCode: 0,
        durationMs: expect.any(Number),
        output: 'done-writing',
      },
    ]);
    const messages = (fake.requests.at(-1)?.body as { messages: { role: string; content: string }[] })
      .messages;
    expect(messages.at(-1)).toMatchObject({
      role: 'tool',
      tool_name: 'shell',
      content: 'exit code 0\ndone-writing',
    });
    expect(requestsMade()).toBe(2);
  });

  it('does not run a denied command, tells the model, and still succeeds', async () => {
    fake.script([{ kind: 'shell', command: 'touch denied.txt', then: 'understood, not touching it' }]);
    const workdir = mkdtempSync(join(tmpdir(), 'gantry-ollama-work-'));
    const result = await run('touch a file', { workdir, decide: () => 'denied' });

    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'understood, not touching it' });
    expect(existsSync(join(workdir, 'denied.txt'))).toBe(false);
    expect(eventsOf(result, 'tool_finished')).toEqual([
      { id: expect.any(String), name: 'shell', status: 'denied' },
    ]);
    const messages = (fake.requests.at(-1)?.body as { messages: { role: string; content: string }[] })
      .messages;
    expect(messages.at(-1)?.role).toBe('tool');
    expect(messages.at(-1)?.content).toContain('denied');
  });

  it('fails with the model error', async () => {
    fake.script([
      { kind: 'error', status: 404, message: 'model "qwen-test" not found, try pulling it first' },
    ]);
    const result = await run('anything');

    expect(result.outcome).toMatchObject({
      status: 'failed',
      error: {
        code: 'provider_failed',
        message: 'ollama: model "qwen-test" not found, try pulling it first',
      },
    });
    // Nothing was answered, so there is no conversation to continue.
    expect(result.outcome.sessionId).toBeUndefined();
  });

  it('continues a saved conversation', async () => {
    fake.script([
      { kind: 'text', text: 'the secret is 42' },
      { kind: 'text', text: 'you asked about the secret' },
    ]);
    const first = await run('remember the secret');
    const id = first.outcome.sessionId!;
    const second = await run('what did I ask?', { resumeId: id });

    expect(second.outcome).toMatchObject({
      status: 'succeeded',
      output: 'you asked about the secret',
      sessionId: id,
    });
    expect(eventsOf(second, 'session')).toEqual([{ id, provider: 'ollama', resumed: true }]);
    const last = fake.requests.at(-1)!;
    expect(last.userTexts).toEqual(['remember the secret', 'what did I ask?']);
    const messages = (last.body as { messages: { role: string; content: string }[] }).messages;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[2]?.content).toBe('the secret is 42');
  });

  it('refuses an unknown or unreadable session', async () => {
    const result = await run('go on', { resumeId: 'no-such-session' });

    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.error?.code).toBe('resume_failed');
    expect(result.outcome.error?.message).toContain(join(stateDir, 'no-such-session.json'));

    writeFileSync(join(stateDir, 'broken.json'), '{"id": "broken", "messages": [');
    const broken = await run('go on', { resumeId: 'broken' });
    expect(broken.outcome.error?.code).toBe('resume_failed');
    expect(broken.outcome.error?.message).toContain(join(stateDir, 'broken.json'));
    expect(requestsMade()).toBe(0);
  });

  it('stops promptly when cancelled while the model stalls', async () => {
    fake.script([{ kind: 'stall', text: 'thinking about it' }]);
    const abort = new AbortController();
    let streaming!: () => void;
    const streamed = new Promise<void>((resolve) => (streaming = resolve));
    const running = run('take forever', {
      signal: abort.signal,
      onEvent: (type) => type === 'message_delta' && streaming(),
    });
    await Promise.all([fake.stalled(), streamed]);
    const stoppedAt = Date.now();
    abort.abort();
    const result = await running;

    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
    expect(
      eventsOf(result, 'message_delta')
        .map((d) => d.text)
        .join(''),
    ).toBe('thinking ');
  });

  it('stops a running shell command when cancelled', async () => {
    fake.script([{ kind: 'shell', command: 'sleep 30', then: 'never' }]);
    const abort = new AbortController();
    const running = run('sleep', {
      signal: abort.signal,
      onEvent: (type) => type === 'tool_started' && setTimeout(() => abort.abort(), 200),
    });
    const result = await running;

    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
    expect(eventsOf(result, 'tool_finished')).toMatchObject([{ status: 'cancelled' }]);
    expect(requestsMade()).toBe(1);
  });

  it('checks the server version, and says how to start Ollama when it is not there', async () => {
    expect(await provider.check()).toEqual({ ok: true, detail: fake.url, version: fakeOllamaVersion });

    const closedUrl = `http://127.0.0.1:${await freePort()}`;
    const missing = ollamaProvider({
      bin: undefined,
      graces,
      settings: { ollamaUrl: closedUrl, ollamaModel: 'm' },
      stateDir,
    });
    const check = await missing.check();
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(closedUrl);
    expect(check.detail).toContain('ollama serve');

    const noModel = ollamaProvider({ bin: undefined, graces, settings: { ollamaUrl: fake.url }, stateDir });
    expect(await noModel.check()).toEqual({ ok: false, detail: 'no model: pass --ollama-model NAME' });
  });
});

/** A port nothing listens on (taken from the OS, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
