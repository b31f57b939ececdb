/** The claude-code provider driving the real Claude Code CLI against a fake Anthropic Messages API on loopback. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeCodeProvider } from '../../packages/gateway/src/providers/claude-code.ts';
import { groupAlive } from '../../packages/gateway/src/providers/process-group.ts';
import type { ProviderSettings } from '../../packages/gateway/src/providers/settings.ts';
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { eventsOf, runDirect } from './direct.ts';

const provider = claudeCodeProvider({
  bin: process.env.GANTRY_TEST_CLAUDE_BIN,
  graces: { interruptMs: 2_000, terminateMs: 1_000 },
  settings: {},
  stateDir: join(tmpdir(), 'gantry-claude-state'),
});

describe('claude-code provider', () => {
  let fake: FakeModel;
  let scratch: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fake = await startAnthropicMessages();
    scratch = mkdtempSync(join(tmpdir(), 'gantry-claude-test-'));
    env = claudeEnvFor(fake, scratch);
  });

  afterAll(async () => {
    await fake.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const run = (prompt: string, options: Omit<Parameters<typeof runDirect>[1], 'prompt' | 'env'> = {}) =>
    runDirect(provider, { prompt, env, ...options });

  it('answers a prompt with text, its session and its usage', async () => {
    fake.script([{ kind: 'text', text: 'hello from the fake' }]);
    const result = await run('say hello');

    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'hello from the fake', exitCode: 0 });
    expect(eventsOf(result, 'message').map((m) => m.text)).toEqual(['hello from the fake']);
    expect(
      eventsOf(result, 'message_delta')
        .map((m) => m.text)
        .join(''),
    ).toBe('hello from the fake');
    const [session] = eventsOf(result, 'session');
    expect(session).toMatchObject({ provider: 'claude-code', resumed: false });
    expect(result.outcome.sessionId).toBe(session?.id);
    const [usage] = eventsOf(result, 'usage');
    expect(usage?.inputTokens).toBeGreaterThan(0);
    expect(usage?.outputTokens).toBeGreaterThan(0);
    expect(usage?.costUsd).toBeGreaterThan(0);
    expect(fake.requests.at(-1)?.userTexts).toEqual(['say hello']);
  });

  const shell = (settings: ProviderSettings) => {
    fake.script([{ kind: 'shell', command: 'echo made > made.txt', then: 'done' }]);
    const workdir = mkdtempSync(join(scratch, 'work-'));
    return run('make a file', { workdir, settings }).then((result) => ({ result, workdir }));
  };

  it('runs an allowed shell tool call that creates a file in the workdir', async () => {
    const { result, workdir } = await shell({ allowedTools: ['Bash'] });

    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'done' });
    expect(existsSync(join(workdir, 'made.txt'))).toBe(true);
    const [started] = eventsOf(result, 'tool_started');
    expect(started).toMatchObject({ name: 'Bash', input: 'echo made > made.txt' });
    expect(eventsOf(result, 'tool_finished')).toMatchObject([
      { id: started?.id, status: 'completed', exitCode: 0 },
    ]);
  });

  it('reports a tool call Claude denies in its default mode, and runs nothing', async () => {
    const { result, workdir } = await shell({});

    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'done' });
    expect(existsSync(join(workdir, 'made.txt'))).toBe(false);
    const [started] = eventsOf(result, 'tool_started');
    expect(eventsOf(result, 'tool_finished').at(-1)).toMatchObject({
      id: started?.id,
      name: 'Bash',
      status: 'denied',
    });
  });

  it('fails with the API error of the model', async () => {
    fake.script([{ kind: 'error', status: 400, message: 'the fake refuses this request' }]);
    const result = await run('say hello');

    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.error?.code).toBe('provider_failed');
    expect(result.outcome.error?.message).toContain('the fake refuses this request');
  });

  it('continues a conversation from its session id', async () => {
    const workdir = mkdtempSync(join(scratch, 'work-'));
    fake.script([
      { kind: 'text', text: 'first answer' },
      { kind: 'text', text: 'second answer' },
    ]);
    const first = await run('first prompt', { workdir });
    const id = first.outcome.sessionId;
    expect(id).toBeTruthy();

    const second = await run('second prompt', { workdir, resumeId: id! });
    expect(second.outcome).toMatchObject({ status: 'succeeded', output: 'second answer', sessionId: id });
    expect(eventsOf(second, 'session')).toMatchObject([{ id, resumed: true }]);
    expect(fake.requests.at(-1)?.userTexts).toEqual(['first prompt', 'second prompt']);
  });

  it('says resume_failed for a session Claude does not know', async () => {
    const result = await run('go on', { resumeId: '0d1f6a4e-0000-4000-8000-000000000000' });

    expect(result.outcome.status).toBe('failed');
    expect(result.outcome.error).toMatchObject({ code: 'resume_failed' });
    expect(result.outcome.error?.message).toContain('No conversation found');
    expect(result.outcome.sessionId).toBeUndefined();
  });

  it('stops the whole process group when cancelled mid-reply', async () => {
    fake.script([{ kind: 'stall', text: 'thinking about it' }]);
    const abort = new AbortController();
    const running = run('take your time', { signal: abort.signal });
    await fake.stalled();
    abort.abort();
    const result = await running;

    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
    // Not `process.kill(-pid, 0)`: Claude's children (git, sh) linger as zombies until this
    // container's init reaps them, and a signal test counts those.
    expect(groupAlive(result.pid!)).toBe(false);
  });
});
