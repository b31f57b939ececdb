// A permission `ask` round trip through the real Codex CLI: bound with `--permission ask`, the run
// drives `codex app-server`, whose command approval requests become pending `tool_permission`
// approvals on the hub, reach the person who started the run, and are decided with `gantry
// approvals`; an unanswered request is declined after the timeout. A binding that does not choose
// `--permission` stays on `codex exec` and its sandbox: the command runs, nobody is asked.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval, Assignment, AssignmentEvent, Inbox } from '@gantry/protocol';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { codexHomeFor, startOpenAiResponses } from '../fake-models/openai-responses.ts';
import { createAgent, startHub } from '../fixtures.ts';
import { eventually, Sandbox } from '../harness.ts';

// Real CLIs, each round trip several CLI calls: ~20 s on a loaded machine.
describe('tool permission approvals (codex, --permission ask)', { timeout: 60_000 }, () => {
  const box = new Sandbox();
  let fake: FakeModel;
  let workdir: string;

  beforeAll(async () => {
    fake = await startOpenAiResponses();
    const { ready } = await startHub(box);
    const home = join(box.home, 'provider-home');
    workdir = join(box.home, 'project');
    mkdirSync(workdir, { recursive: true });
    mkdirSync(home, { recursive: true });
    const gateway = async (name: string, flags: string[], dir: string) => {
      const agent = await createAgent(box, name);
      mkdirSync(dir, { recursive: true });
      await box
        .start(
          [
            'gateway',
            'run',
            '--server-url',
            ready.url,
            '--provider',
            'codex',
            '--codex-bin',
            process.env.GANTRY_TEST_CODEX_BIN ?? 'codex',
            '--api-key',
            agent.key,
            '--workspace-root',
            dir,
            '--port',
            '0',
            '--json',
            ...flags,
          ],
          {
            HOME: home,
            ...codexHomeFor(fake, join(home, `codex-${name}`)),
            GANTRY_PERMISSION_TIMEOUT_MS: '12000',
            // Each gateway its own config and data folders.
            GANTRY_HOME: join(box.home, `gw-${name}`),
          },
        )
        .ready();
    };
    await gateway('careful', ['--permission', 'ask'], workdir);
    await gateway('plain', [], join(box.home, 'plain'));
    // An agent bound to no folder runs in its own, under the workspace root.
    workdir = join(workdir, 'careful');
  }, 120_000);
  afterAll(async () => {
    await box.cleanup();
    await fake?.close();
  });

  /** Starts a run whose model asks for `command`, and returns it with its pending approval. */
  async function askFor(command: string, flags: string[] = []) {
    fake.script([{ kind: 'shell', command, then: 'Finished.' }]);
    const created = await box.json<Assignment>(['assign', 'careful', `please run ${command}`, ...flags]);
    const approval = await eventually(async () => {
      const pending = await box.json<Approval[]>(['approvals', 'list', '--status', 'pending']);
      return pending.find((a) => a.assignmentId === created.id);
    }, 30_000);
    return { created, approval };
  }

  const finalOf = (id: string) =>
    eventually(async () => {
      const a = await box.json<Assignment>(['assignments', 'show', id]);
      return ['succeeded', 'failed'].includes(a.state) ? a : undefined;
    }, 30_000);

  const permissionEvents = async (id: string) =>
    (await box.json<AssignmentEvent[]>(['assignments', 'events', id])).filter((e) =>
      e.type.startsWith('permission_'),
    );

  it('runs the tool once the person approves, after telling them', async () => {
    const { created, approval } = await askFor('touch approved.txt');
    expect(approval).toMatchObject({
      kind: 'tool_permission',
      status: 'pending',
      agent: { name: 'careful' },
    });
    expect(approval.subject).toBe('shell: touch approved.txt');
    expect(existsSync(join(workdir, 'approved.txt'))).toBe(false);
    expect((await box.json<Approval>(['approvals', 'approve', approval.id])).status).toBe('approved');
    // The person who started the run was told, in their inbox.
    const inbox = await box.json<Inbox>(['inbox']);
    expect(inbox.messages.find((m) => m.body.includes(approval.id))?.author.name).toBe('careful');
    const final = await finalOf(created.id);
    expect(final.state).toBe('succeeded');
    expect(final.result?.output).toBe('Finished.');
    expect(existsSync(join(workdir, 'approved.txt'))).toBe(true);
    expect((await permissionEvents(created.id)).map((e) => [e.type, e.data.decision, e.data.by])).toEqual([
      ['permission_requested', undefined, undefined],
      ['permission_decided', 'approved', 'user'],
    ]);
  });

  it('does not run the command when the person denies, and Codex is told', async () => {
    const { created, approval } = await askFor('touch denied.txt');
    expect((await box.json<Approval>(['approvals', 'deny', approval.id])).status).toBe('denied');
    const final = await finalOf(created.id);
    expect(existsSync(join(workdir, 'denied.txt'))).toBe(false);
    expect(final.state).toBe('succeeded');
    // The model gets the declined call back as its tool result.
    expect(JSON.stringify(fake.requests.at(-1)?.body)).toContain('function_call_output');
    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', created.id]);
    expect(events.find((e) => e.type === 'permission_decided')?.data).toMatchObject({
      decision: 'denied',
      by: 'user',
    });
    expect(events.find((e) => e.type === 'tool_finished')?.data.status).toBe('denied');
  });

  it('denies a request nobody answers, and the approval expires', async () => {
    const { created, approval } = await askFor('touch ignored.txt');
    const final = await finalOf(created.id);
    expect(existsSync(join(workdir, 'ignored.txt'))).toBe(false);
    expect(final.state).toBe('succeeded');
    expect((await permissionEvents(created.id)).at(-1)?.data).toMatchObject({
      decision: 'denied',
      by: 'timeout',
    });
    const after = await box.json<Approval[]>(['approvals', 'list']);
    expect(after.find((a) => a.id === approval.id)?.status).toBe('expired');
  }, 60_000);

  it('continues a conversation through app-server (thread/resume), still asking', async () => {
    fake.script([{ kind: 'text', text: 'noted' }]);
    const first = await box.run([
      'assign',
      'careful',
      'the code word is heron',
      '--session',
      'birds',
      '--wait',
      '30s',
    ]);
    expect(first.code).toBe(0);
    const { created, approval } = await askFor('touch resumed.txt', ['--session', 'birds', '--continue']);
    // app-server adds its `<environment_context>` as a user message of its own.
    const said = fake.requests.at(-1)?.userTexts.filter((t) => !t.startsWith('<environment_context>'));
    expect(said).toEqual(['the code word is heron', 'please run touch resumed.txt']);
    await box.json<Approval>(['approvals', 'approve', approval.id]);
    expect((await finalOf(created.id)).state).toBe('succeeded');
    expect(existsSync(join(workdir, 'resumed.txt'))).toBe(true);
    const session = (await box.json<AssignmentEvent[]>(['assignments', 'events', created.id])).find(
      (e) => e.type === 'session',
    );
    expect(session?.data).toMatchObject({ provider: 'codex', resumed: true });
  });

  it('leaves a binding without --permission on codex exec and its sandbox: nobody asked', async () => {
    fake.script([{ kind: 'shell', command: 'touch plain.txt', then: 'Finished.' }]);
    const created = await box.json<Assignment>(['assign', 'plain', 'please run touch plain.txt']);
    const final = await finalOf(created.id);
    expect(final.state).toBe('succeeded');
    expect(existsSync(join(box.home, 'plain', 'plain', 'plain.txt'))).toBe(true);
    expect(await permissionEvents(created.id)).toEqual([]);
    const all = await box.json<Approval[]>(['approvals', 'list']);
    expect(all.some((a) => a.assignmentId === created.id)).toBe(false);
  });
});
