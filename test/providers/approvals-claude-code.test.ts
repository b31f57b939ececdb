// A permission `ask` round trip through the real Claude Code CLI: bound with `--permission ask`, its
// permission prompts go through the `--permission-prompt-tool` the gateway serves for the run, become
// pending `tool_permission` approvals on the hub, reach the person who started the run, and are decided
// with `gantry approvals`; an unanswered request is denied after the timeout. A binding that does not
// choose `--permission` keeps Claude's own default (denied without asking anyone).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval, Assignment, AssignmentEvent, Inbox } from '@gantry/protocol';
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { createAgent, startHub } from '../fixtures.ts';
import { eventually, Sandbox } from '../harness.ts';

// Real CLIs, each round trip several CLI calls: ~20 s on a loaded machine.
describe('tool permission approvals (claude-code, --permission ask)', { timeout: 60_000 }, () => {
  const box = new Sandbox();
  let fake: FakeModel;
  let workdir: string;

  beforeAll(async () => {
    fake = await startAnthropicMessages();
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
            'claude-code',
            '--claude-bin',
            process.env.GANTRY_TEST_CLAUDE_BIN ?? 'claude',
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
            ...claudeEnvFor(fake, home),
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
  async function askFor(command: string) {
    fake.script([{ kind: 'shell', command, then: 'Finished.' }]);
    const created = await box.json<Assignment>(['assign', 'careful', `please run ${command}`]);
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
    expect(approval.subject).toBe('Bash: touch approved.txt');
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

  it('does not run the tool when the person denies, and Claude is told why', async () => {
    const { created, approval } = await askFor('touch denied.txt');
    expect((await box.json<Approval>(['approvals', 'deny', approval.id])).status).toBe('denied');
    const final = await finalOf(created.id);
    expect(existsSync(join(workdir, 'denied.txt'))).toBe(false);
    expect(final.state).toBe('succeeded');
    // The deny message is the tool result the model gets back.
    const toolResult = JSON.stringify(fake.requests.at(-1)?.body);
    expect(toolResult).toContain('denied through Gantry');
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

  it('leaves a binding without --permission to Claude: denied at once, nobody asked', async () => {
    fake.script([{ kind: 'shell', command: 'touch plain.txt', then: 'Finished.' }]);
    const created = await box.json<Assignment>(['assign', 'plain', 'please run touch plain.txt']);
    const final = await finalOf(created.id);
    expect(final.state).toBe('succeeded');
    expect(existsSync(join(box.home, 'plain', 'plain', 'plain.txt'))).toBe(false);
    expect(await permissionEvents(created.id)).toEqual([]);
    const all = await box.json<Approval[]>(['approvals', 'list']);
    expect(all.some((a) => a.assignmentId === created.id)).toBe(false);
  });
});
