/**
 * The provider contract: the same cases for every provider, each run the way a user runs it —
 * `gantry hub start`, `gantry gateway run --provider P`, `gantry assign` — with the real agent CLI
 * against a fake model server on loopback. Each provider's file calls `providerContract` with how
 * to start its fake and which flags and environment its gateway needs.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { createAgent, startHub } from '../fixtures.ts';
import { eventually, Sandbox } from '../harness.ts';
import { markedRunning } from '../processes.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';

export interface ProviderSpec {
  provider: 'codex' | 'claude-code' | 'acp' | 'ollama';
  startFake(): Promise<FakeModel>;
  /** Flags for `gateway run` beyond server, provider and key (binary, permissions, model). */
  flags(fake: FakeModel): string[];
  /** Environment of the gateway process (the provider's own families pass through to it). */
  env(fake: FakeModel, home: string): Record<string, string>;
  /** Whether a process runs while the model streams (not for ollama: the gateway itself calls the API). */
  streamsInProcess?: boolean;
}

export function providerContract(spec: ProviderSpec): void {
  describe(`provider contract: ${spec.provider}`, () => {
    const box = new Sandbox();
    let fake: FakeModel;
    let workdir: string;

    beforeAll(async () => {
      fake = await spec.startFake();
      const { ready } = await startHub(box);
      const agent = await createAgent(box, 'coder');
      workdir = join(box.home, 'project');
      mkdirSync(workdir, { recursive: true });
      const providerHome = join(box.home, 'provider-home');
      mkdirSync(providerHome, { recursive: true });
      const env = { GANTRY_STOP_GRACE_MS: '500', ...spec.env(fake, providerHome) };
      const gateway = box.start(
        [
          'gateway',
          'run',
          '--server-url',
          ready.url,
          '--provider',
          spec.provider,
          '--api-key',
          agent.key,
          '--workspace-root',
          workdir,
          '--port',
          '0',
          '--json',
          ...spec.flags(fake),
        ],
        env,
      );
      await gateway.ready();
      // An agent bound to no folder runs in its own, under the workspace root.
      workdir = join(workdir, 'coder');
    }, 120_000);
    afterAll(async () => {
      await box.cleanup();
      await fake?.close();
    });

    const assign = (args: string[]) => box.json<Assignment>(['assign', 'coder', ...args]);
    const events = (id: string) => box.json<AssignmentEvent[]>(['assignments', 'events', id]);

    it('answers with the model text, its session and usage as events', async () => {
      fake.script([{ kind: 'text', text: 'Hello from the fake model.' }]);
      const done = await assign(['say hello', '--wait', '60s']);
      expect(done).toMatchObject({ state: 'succeeded' });
      expect(done.result?.output).toContain('Hello from the fake model.');
      const types = (await events(done.id)).map((e) => e.type);
      expect(types).toContain('session');
      expect(types).toContain('message');
      expect(types).toContain('usage');
    });

    it('runs a shell tool call that creates a file in the workdir', async () => {
      fake.script([{ kind: 'shell', command: 'echo made > made-by-agent.txt', then: 'Created the file.' }]);
      const done = await assign(['create the file', '--wait', '60s']);
      expect(done).toMatchObject({ state: 'succeeded' });
      expect(existsSync(join(workdir, 'made-by-agent.txt'))).toBe(true);
      const all = await events(done.id);
      const started = all.find((e) => e.type === 'tool_started');
      const finished = all.find((e) => e.type === 'tool_finished');
      expect(started?.data.input).toContain('made-by-agent.txt');
      expect(finished?.data.status).toBe('completed');
      expect(done.result?.output).toContain('Created the file.');
    });

    it("fails the run with the provider's message when the model errors", async () => {
      fake.script([{ kind: 'error', status: 400, message: 'fake model refuses: quota exceeded' }]);
      const run = await box.run(['assign', 'coder', 'this will fail', '--wait', '60s', '--json']);
      expect(run.code).toBe(1);
      const failed = JSON.parse(run.stdout) as Assignment;
      expect(failed).toMatchObject({ state: 'failed', error: { code: 'provider_failed' } });
      expect(failed.error?.message).toContain('quota exceeded');
    });

    it('continues the conversation of a session key, sending the first turn back to the model', async () => {
      fake.script([
        { kind: 'text', text: 'Noted: the password is swordfish.' },
        { kind: 'text', text: 'It was swordfish.' },
      ]);
      const first = await assign(['remember the word swordfish', '--session', 'memory', '--wait', '60s']);
      expect(first.state).toBe('succeeded');
      const second = await assign(['which word?', '--session', 'memory', '--continue', '--wait', '60s']);
      expect(second.state).toBe('succeeded');
      const last = fake.requests.at(-1);
      expect(last?.userTexts.join('\n')).toContain('remember the word swordfish');
      expect(last?.userTexts.join('\n')).toContain('which word?');
      const sessions = [...(await events(first.id)), ...(await events(second.id))].filter(
        (e) => e.type === 'session',
      );
      expect(new Set(sessions.map((e) => e.data.id)).size).toBe(1);
    });

    it("cancels while the model is still streaming, and the provider's processes are gone", async () => {
      fake.script([{ kind: 'stall', text: 'Thinking very slowly' }]);
      const created = await assign(['take your time']);
      await fake.stalled();
      const marker = `${created.id}#1`;
      if (spec.streamsInProcess !== false) expect(markedRunning(marker)).toBe(true);
      expect((await box.run(['assignments', 'cancel', created.id])).code).toBe(0);
      const final = await eventually(async () => {
        const a = await box.json<Assignment>(['assignments', 'show', created.id]);
        return a.state === 'cancelled' ? a : undefined;
      }, 30_000);
      expect(final.error?.code).toBe('cancelled');
      expect(markedRunning(marker)).toBe(false);
    });

    it('times out a run that takes longer than its timeout', async () => {
      fake.script([{ kind: 'stall', text: 'Still going' }]);
      const result = await box.run([
        'assign',
        'coder',
        'never ends',
        '--timeout',
        '3s',
        '--wait',
        '60s',
        '--json',
      ]);
      const final = JSON.parse(result.stdout) as Assignment;
      expect(final).toMatchObject({ state: 'timed_out', error: { code: 'timed_out' } });
      expect(markedRunning(`${final.id}#1`)).toBe(false);
    });
  });
}
