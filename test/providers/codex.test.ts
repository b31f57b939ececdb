/** The codex provider driving the real Codex CLI against a fake OpenAI Responses API on loopback. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codexProvider } from '../../packages/gateway/src/providers/codex.ts';
import { defaultStopGraces } from '../../packages/gateway/src/providers/process-group.ts';
import type { Provider } from '../../packages/gateway/src/providers/provider.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { codexHomeFor, startOpenAiResponses } from '../fake-models/openai-responses.ts';
import { eventsOf, runDirect } from './direct.ts';

function codex(bin: string | undefined): Provider {
  return codexProvider({
    bin,
    graces: defaultStopGraces,
    settings: {},
    stateDir: join(tmpdir(), 'gantry-codex-state'),
  });
}

describe('codex provider', () => {
  let fake: FakeModel;
  let scratch: string;
  let env: Record<string, string>;
  const provider = codex(process.env.GANTRY_TEST_CODEX_BIN);

  beforeAll(async () => {
    fake = await startOpenAiResponses();
    scratch = mkdtempSync(join(tmpdir(), 'gantry-codex-test-'));
    env = { HOME: scratch, ...codexHomeFor(fake, join(scratch, 'codex-home')) };
  });

  afterAll(async () => {
    await fake.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  // Workdirs live in the scratch folder too, so nothing is left behind.
  const run = (prompt: string, options: Omit<Parameters<typeof runDirect>[1], 'prompt' | 'env'> = {}) =>
    runDirect(provider, { prompt, env, workdir: mkdtempSync(join(scratch, 'work-')), ...options });

  it('answers a prompt with text, its session and its usage', async () => {
    fake.script([{ kind: 'text', text: 'hello from the fake' }]);
    const before = fake.requests.length;
    const result = await run('say hello');

    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'hello from the fake', exitCode: 0 });
    expect(eventsOf(result, 'message').map((m) => m.text)).toEqual(['hello from the fake']);
    const [session] = eventsOf(result, 'session');
    expect(session).toMatchObject({ provider: 'codex', resumed: false });
    expect(result.outcome.sessionId).toBe(session?.id);
    const [usage] = eventsOf(result, 'usage');
    expect(usage?.inputTokens).toBeGreaterThan(0);
    expect(usage?.outputTokens).toBeGreaterThan(0);
    expect(usage).toHaveProperty('cachedInputTokens');

    const requests = fake.requests.slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.userTexts.at(-1)).toBe('say hello');
    expect(requests[0]?.headers.authorization).toBe('Bearer fake-key');
    // A known model slug: no "model metadata not found" notice.
    expect(eventsOf(result, 'log').filter((l) => l.stream === 'provider')).toEqual([]);
  });

  it('runs a shell tool call that changes the workdir', async () => {
    fake.script([{ kind: 'shell', command: 'echo made > made.txt', then: 'the file is there' }]);
    const workdir = mkdtempSync(join(scratch, 'work-'));
    const result = await run('make a file', { workdir });

    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'the file is there' });
    expect(readFileSync(join(workdir, 'made.txt'), 'utf8')).toBe('made\n');
    const [started] = eventsOf(result, 'tool_started');
    expect(started).toMatchObject({ name: 'shell' });
    expect(started?.input).toContain('echo made > made.txt');
    const [finished] = eventsOf(result, 'tool_finished');
    expect(finished).toMatchObject({ id: started?.id, name: 'shell', status: 'completed', exitCode: 0 });
    expect(finished?.durationMs).toBeGreaterThanOrEqual(0);
    expect(fake.requests.at(-1)?.body).toMatchObject({
      input: expect.arrayContaining([expect.objectContaining({ type: 'function_call_output' })]),
    });
  });

  it('keeps a read-only sandbox from writing to the workdir', async () => {
    fake.script([{ kind: 'shell', command: 'echo made > blocked.txt', then: 'tried' }]);
    const workdir = mkdtempSync(join(scratch, 'work-'));
    const result = await run('make a file', { workdir, settings: { sandbox: 'read-only' } });

    expect(existsSync(join(workdir, 'blocked.txt'))).toBe(false);
    const [finished] = eventsOf(result, 'tool_finished');
    expect(finished?.status).not.toBe('completed');
  });

  it('fails with the model API error as codex reports it', async () => {
    fake.script([{ kind: 'error', status: 400, message: 'the model is on fire' }]);
    const result = await run('this will fail');

    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.exitCode).toBe(1);
    expect(result.outcome.error).toEqual({ code: 'provider_failed', message: 'the model is on fire' });
    expect(eventsOf(result, 'error')).toMatchObject([
      { message: 'the model is on fire', code: 'provider_failed' },
    ]);
  });

  it('continues a session from the same workdir', async () => {
    fake.script([
      { kind: 'text', text: 'first answer' },
      { kind: 'text', text: 'second answer' },
    ]);
    const workdir = mkdtempSync(join(scratch, 'work-'));
    const first = await run('remember the word teapot', { workdir });
    const sessionId = first.outcome.sessionId;
    expect(sessionId).toBeTruthy();
    const before = fake.requests.length;

    const second = await run('what was the word?', { workdir, resumeId: sessionId! });
    expect(second.outcome).toMatchObject({ status: 'succeeded', output: 'second answer', sessionId });
    expect(eventsOf(second, 'session')).toMatchObject([{ id: sessionId, resumed: true }]);
    const request = fake.requests[before];
    expect(request?.userTexts).toContain('remember the word teapot');
    expect(request?.userTexts.at(-1)).toBe('what was the word?');
  });

  it('stops a stalled run and leaves no process behind', async () => {
    fake.script([{ kind: 'stall', text: 'thinking very slowly' }]);
    const abort = new AbortController();
    void fake.stalled().then(() => abort.abort());
    const result = await run('take forever', { signal: abort.signal });

    expect(abort.signal.aborted).toBe(true);
    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.sessionId).toBeTruthy();
    expect(result.pid).toBeDefined();
    expect(() => process.kill(-result.pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('says resume_failed for a thread codex does not have', async () => {
    const before = fake.requests.length;
    const unknown = await run('continue please', { resumeId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.outcome.status).toBe('failed');
    expect(unknown.outcome.error?.code).toBe('resume_failed');
    expect(unknown.outcome.error?.message).toContain(
      'no rollout found for thread id 00000000-0000-4000-8000-000000000000',
    );

    // Not a thread id at all: codex would quietly start a new thread, so it is refused up front.
    const malformed = await run('continue please', { resumeId: 'not-a-thread' });
    expect(malformed.outcome.error).toEqual({
      code: 'resume_failed',
      message: "'not-a-thread' is not a codex thread id",
    });
    expect(fake.requests.length).toBe(before);
  });

  it('check() of a missing binary says where it looked', async () => {
    const missing = join(scratch, 'no-such-codex');
    expect(existsSync(missing)).toBe(false);
    const check = await codex(missing).check();
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(missing);
    expect(check.detail).toContain('npm install -g @openai/codex');
  });
});
