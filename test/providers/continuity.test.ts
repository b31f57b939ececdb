// Session continuity as a user meets it (with the ollama provider, whose conversations the gateway
// keeps itself): a conversation continues after the gateway restarts; `mode new` on a used key
// starts fresh and says so; a resume the provider refuses fails with `resume_failed`, or starts
// fresh and says so when the assignment asked for `--resume-fallback new`.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import type { FakeModel, RecordedRequest } from '../fake-models/fake-model.ts';
import { startOllamaChat } from '../fake-models/ollama-chat.ts';
import { createAgent, startHub } from '../fixtures.ts';
import { Sandbox, type Service } from '../harness.ts';

describe('session continuity through a real hub and gateway', () => {
  const box = new Sandbox();
  let fake: FakeModel;
  let gateway: Service;
  const conversations = () => join(box.home, 'data', 'providers', 'ollama');

  const startGateway = async () => {
    gateway = box.start(['gateway', 'start', '--port', '0', '--json']);
    await gateway.ready();
  };

  beforeAll(async () => {
    fake = await startOllamaChat();
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'keeper');
    await box.json([
      'gateway',
      'connect',
      '--server-url',
      ready.url,
      '--provider',
      'ollama',
      '--ollama-url',
      fake.url,
      '--ollama-model',
      'qwen-test',
      '--api-key',
      agent.key,
    ]);
    await startGateway();
  });
  afterAll(async () => {
    await box.cleanup();
    await fake.close();
  });

  const assign = (args: string[]) => box.run(['assign', 'keeper', ...args, '--wait', '30s', '--json']);
  const statuses = async (id: string) =>
    (await box.json<AssignmentEvent[]>(['assignments', 'events', id]))
      .filter((e) => e.type === 'status')
      .map((e) => String(e.data.message));
  const lastUserTexts = () => (fake.requests.at(-1) as RecordedRequest).userTexts;

  it('continues a conversation after the gateway restarts', async () => {
    expect((await assign(['the code word is heron', '--session', 'birds'])).code).toBe(0);
    await gateway.stop();
    await startGateway();
    const next = await assign(['what was the code word?', '--session', 'birds', '--continue']);
    expect(next.code).toBe(0);
    expect(lastUserTexts()).toEqual(['the code word is heron', 'what was the code word?']);
  });

  it('starts fresh on a used key without --continue, and says so', async () => {
    const fresh = await assign(['a new topic', '--session', 'birds']);
    expect(fresh.code).toBe(0);
    expect(lastUserTexts()).toEqual(['a new topic']);
    const id = (JSON.parse(fresh.stdout) as Assignment).id;
    expect(await statuses(id)).toContainEqual(
      expect.stringContaining("starting a new conversation for session key 'birds'"),
    );
  });

  it('fails with resume_failed when the saved conversation is gone, or starts fresh when asked to', async () => {
    expect((await assign(['remember plover', '--session', 'shore'])).code).toBe(0);
    for (const file of readdirSync(conversations())) rmSync(join(conversations(), file));

    const refused = await assign(['and now?', '--session', 'shore', '--continue']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ state: 'failed', error: { code: 'resume_failed' } });

    const fallback = await assign([
      'and now?',
      '--session',
      'shore',
      '--continue',
      '--resume-fallback',
      'new',
    ]);
    expect(fallback.code).toBe(0);
    const done = JSON.parse(fallback.stdout) as Assignment;
    expect(done.resumeFallback).toBe('new');
    expect(lastUserTexts()).toEqual(['and now?']);
    expect(await statuses(done.id)).toContainEqual(
      expect.stringContaining('starting a new conversation as the assignment asked'),
    );
  });

  it('refuses an unknown --resume-fallback value', async () => {
    const bad = await box.run(['assign', 'keeper', 'x', '--continue', '--resume-fallback', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--resume-fallback must be fail or new');
  });
});
