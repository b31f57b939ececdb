/**
 * The acp provider driving the real Claude ACP adapter (claude-agent-acp) over stdio against a fake
 * Anthropic Messages API on loopback; and a tiny scripted ACP agent for plans, edits, a crash and
 * an agent that cannot load sessions.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acpProvider } from '../../packages/gateway/src/providers/acp.ts';
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { groupRunning } from '../processes.ts';
import { eventsOf, runDirect } from './direct.ts';

const graces = { interruptMs: 2_000, terminateMs: 1_000 };
const acp = (bin: string | undefined) =>
  acpProvider({ bin, graces, settings: {}, stateDir: join(tmpdir(), 'gantry-acp-state') });
const scriptedAgent = join(import.meta.dirname, '../fake-models/acp-agent.mjs');

describe('acp provider with claude-agent-acp', () => {
  const provider = acp(process.env.GANTRY_TEST_CLAUDE_ACP_BIN);
  let fake: FakeModel;
  let scratch: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fake = await startAnthropicMessages();
    scratch = mkdtempSync(join(tmpdir(), 'gantry-acp-test-'));
    env = claudeEnvFor(fake, scratch);
  });

  afterAll(async () => {
    await fake.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const run = (prompt: string, options: Omit<Parameters<typeof runDirect>[1], 'prompt' | 'env'> = {}) =>
    runDirect(provider, { prompt, env, ...options });

  it('answers with text, its session and its usage', async () => {
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
    expect(session).toMatchObject({ provider: 'acp', resumed: false });
    expect(result.outcome.sessionId).toBe(session?.id);
    expect(eventsOf(result, 'usage')[0]).toMatchObject({
      inputTokens: expect.any(Number),
      costUsd: expect.any(Number),
    });
    expect(fake.requests.at(-1)?.userTexts).toEqual(['say hello']);
  });

  it('asks permission for a shell command and runs it once approved', async () => {
    const workdir = mkdtempSync(join(scratch, 'work-'));
    fake.script([{ kind: 'shell', command: 'echo made > made.txt', then: 'Created the file.' }]);
    const result = await run('create the file', { workdir, decide: () => 'approved' });

    expect(result.permissions).toEqual([
      { requestId: expect.any(String), tool: 'Bash', input: 'echo made > made.txt' },
    ]);
    expect(existsSync(join(workdir, 'made.txt'))).toBe(true);
    expect(eventsOf(result, 'tool_started')).toEqual([
      { id: expect.any(String), name: 'Bash', input: 'echo made > made.txt' },
    ]);
    expect(eventsOf(result, 'tool_finished')[0]).toMatchObject({ name: 'Bash', status: 'completed' });
    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'Created the file.' });
  });

  it('does not run a denied shell command; the agent reports the tool failed and the turn still ends', async () => {
    const workdir = mkdtempSync(join(scratch, 'work-'));
    fake.script([{ kind: 'shell', command: 'echo made > denied.txt', then: 'I was not allowed.' }]);
    const result = await run('create the file', { workdir, decide: () => 'denied' });

    expect(result.permissions).toHaveLength(1);
    expect(existsSync(join(workdir, 'denied.txt'))).toBe(false);
    // claude-agent-acp answers a rejection with tool_call_update status `failed`, output
    // "User refused permission to run tool"; the provider knows it denied the call.
    expect(eventsOf(result, 'tool_finished')[0]).toMatchObject({
      status: 'denied',
      output: expect.stringContaining('refused'),
    });
    expect(result.outcome).toMatchObject({ status: 'succeeded', output: 'I was not allowed.' });
  });

  it('continues a session with session/load, without repeating its history as messages', async () => {
    const workdir = mkdtempSync(join(scratch, 'work-'));
    fake.script([
      { kind: 'text', text: 'Noted: swordfish.' },
      { kind: 'text', text: 'It was swordfish.' },
    ]);
    const first = await run('remember the word swordfish', { workdir });
    const sessionId = first.outcome.sessionId;
    expect(sessionId).toBeDefined();
    const second = await run('which word?', { workdir, resumeId: sessionId });

    expect(second.outcome).toMatchObject({ status: 'succeeded', output: 'It was swordfish.', sessionId });
    expect(eventsOf(second, 'session')).toEqual([{ id: sessionId, provider: 'acp', resumed: true }]);
    expect(eventsOf(second, 'message').map((m) => m.text)).toEqual(['It was swordfish.']);
    expect(fake.requests.at(-1)?.userTexts).toEqual(['remember the word swordfish', 'which word?']);
  });

  it('fails a continuation of a session the agent does not know with resume_failed', async () => {
    const result = await run('which word?', { resumeId: '6f1c3c1e-0000-4000-8000-000000000000' });
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'resume_failed' } });
    expect(result.outcome.error?.message).toContain('could not load session');
  });

  it('cancels while the model stalls, and the whole process group is gone', async () => {
    fake.script([{ kind: 'stall', text: 'Thinking very slowly' }]);
    const abort = new AbortController();
    void fake.stalled().then(() => abort.abort());
    const result = await run('take your time', { signal: abort.signal });

    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
    expect(result.pid).toBeDefined();
    expect(groupRunning(result.pid!)).toBe(false);
  });

  it("fails with the model's error message", async () => {
    fake.script([{ kind: 'error', status: 400, message: 'fake quota exceeded' }]);
    const result = await run('this will fail');
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'provider_failed' } });
    expect(result.outcome.error?.message).toContain('fake quota exceeded');
  });
});

describe('acp provider with a scripted agent', () => {
  const provider = acp(scriptedAgent);

  it('maps a plan, an approved edit with its diff, messages and usage', async () => {
    const result = await runDirect(provider, { prompt: 'edit the notes' });

    expect(result.outcome).toMatchObject({
      status: 'succeeded',
      output: 'Wrote the notes.',
      details: { usage: { inputTokens: 120, outputTokens: 30 } },
    });
    expect(eventsOf(result, 'status')[0]).toMatchObject({
      message: expect.stringContaining('1 of 2 done'),
      progress: 0.5,
    });
    expect(eventsOf(result, 'message').map((m) => m.text)).toEqual([
      'I will write the notes.',
      'Wrote the notes.',
    ]);
    expect(result.permissions).toEqual([
      { requestId: expect.any(String), tool: 'edit', input: expect.stringContaining('notes.md') },
    ]);
    expect(eventsOf(result, 'tool_finished')[0]).toMatchObject({ id: 'call_1', status: 'completed' });
    expect(eventsOf(result, 'file_changed')).toEqual([
      { path: expect.stringMatching(/notes\.md$/), kind: 'added' },
    ]);
  });

  it('reports no file change for a denied edit', async () => {
    const result = await runDirect(provider, { prompt: 'edit the notes', decide: () => 'denied' });
    expect(eventsOf(result, 'tool_finished')[0]).toMatchObject({ status: 'denied' });
    expect(eventsOf(result, 'file_changed')).toEqual([]);
  });

  it('fails with the stderr tail when the agent exits in the middle of a turn', async () => {
    const result = await runDirect(provider, { prompt: 'crash now' });
    expect(result.outcome).toMatchObject({
      status: 'failed',
      exitCode: 3,
      error: { code: 'provider_failed' },
    });
    expect(result.outcome.error?.message).toContain('exited with code 3');
    expect(result.outcome.error?.message).toContain('fake agent: out of memory');
  });

  it('fails a continuation with resume_failed when the agent cannot load sessions', async () => {
    const result = await runDirect(provider, { prompt: 'again', args: ['--no-load'], resumeId: 'sess_1' });
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'resume_failed' } });
    expect(result.outcome.error?.message).toContain('loadSession');
  });

  it('says how to fix a missing agent binary', async () => {
    expect(await acp(undefined).check()).toMatchObject({
      ok: false,
      detail: expect.stringContaining('--provider-bin'),
    });
  });
});
