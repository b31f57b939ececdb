// A permission `ask` round trip: the real Claude ACP adapter asks to run a shell command, the
// request shows up as a pending `tool_permission` approval on the hub, and a user approves or
// denies it with `gantry approvals`; an unanswered request is denied after the timeout.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, Approval, Assignment, AssignmentEvent } from '@gantry/protocol';
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { createAgent, startHub, type HubReady } from '../fixtures.ts';
import { eventually, Sandbox } from '../harness.ts';

describe('tool permission approvals (acp, --permission ask)', () => {
  const box = new Sandbox();
  let fake: FakeModel;
  let workdir: string;
  let hub: HubReady;

  beforeAll(async () => {
    fake = await startAnthropicMessages();
    const { ready } = await startHub(box);
    hub = ready;
    const agent = await createAgent(box, 'careful');
    workdir = join(box.home, 'project');
    const home = join(box.home, 'provider-home');
    mkdirSync(workdir, { recursive: true });
    mkdirSync(home, { recursive: true });
    await box
      .start(
        [
          'gateway',
          'run',
          '--server-url',
          ready.url,
          '--provider',
          'acp',
          '--provider-bin',
          process.env.GANTRY_TEST_CLAUDE_ACP_BIN ?? 'claude-agent-acp',
          '--api-key',
          agent.key,
          '--workspace-root',
          workdir,
          '--port',
          '0',
          '--json',
        ],
        { ...claudeEnvFor(fake, home), GANTRY_PERMISSION_TIMEOUT_MS: '8000' },
      )
      .ready();
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

  const decided = async (id: string) =>
    (await box.json<AssignmentEvent[]>(['assignments', 'events', id])).filter((e) =>
      e.type.startsWith('permission_'),
    );

  it('runs the tool once a user approves', async () => {
    const { created, approval } = await askFor('touch approved.txt');
    expect(approval).toMatchObject({
      kind: 'tool_permission',
      status: 'pending',
      agent: { name: 'careful' },
    });
    expect(approval.subject).toContain('approved.txt');
    expect(existsSync(join(workdir, 'approved.txt'))).toBe(false);

    const approved = await box.json<Approval>(['approvals', 'approve', approval.id]);
    expect(approved.status).toBe('approved');
    const final = await finalOf(created.id);
    expect(final.state).toBe('succeeded');
    expect(existsSync(join(workdir, 'approved.txt'))).toBe(true);
    expect((await decided(created.id)).map((e) => [e.type, e.data.decision, e.data.by])).toEqual([
      ['permission_requested', undefined, undefined],
      ['permission_decided', 'approved', 'user'],
    ]);
    // A decided approval cannot be decided again.
    const again = await box.run(['approvals', 'deny', approval.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('approved');
  });

  it('does not run the tool when a user denies, and the agent is told', async () => {
    const { created, approval } = await askFor('touch denied.txt');
    expect((await box.json<Approval>(['approvals', 'deny', approval.id])).status).toBe('denied');
    const final = await finalOf(created.id);
    expect(existsSync(join(workdir, 'denied.txt'))).toBe(false);
    expect(final.state).toBe('succeeded');
    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', created.id]);
    expect(events.find((e) => e.type === 'permission_decided')?.data).toMatchObject({
      decision: 'denied',
      by: 'user',
    });
    expect(events.find((e) => e.type === 'tool_finished')?.data.status).not.toBe('completed');
  });

  it('denies a request nobody answers, and the approval expires', async () => {
    const { created, approval } = await askFor('touch ignored.txt');
    const final = await finalOf(created.id);
    expect(existsSync(join(workdir, 'ignored.txt'))).toBe(false);
    expect(final.state).toBe('succeeded');
    expect((await decided(created.id)).at(-1)?.data).toMatchObject({ decision: 'denied', by: 'timeout' });
    const after = await box.json<Approval[]>(['approvals', 'list']);
    expect(after.find((a) => a.id === approval.id)?.status).toBe('expired');
    // The expiry is an entry of the workspace, so it leaves every open Needs you at once.
    const response = await fetch(`${hub.url}/v1/events?since=0&type=approval.decided`, {
      headers: { authorization: `Bearer ${hub.ownerToken}` },
    });
    const entries = (await response.json()) as ActivityEvent[];
    expect(entries.find((e) => e.subject === approval.id)?.data).toMatchObject({ status: 'expired' });
  }, 40_000);
});
