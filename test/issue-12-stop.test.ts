// Issue 12, stopping many things at once: `gantry stop --all` (pause every agent, cancel everything
// queued or running, one activity entry, one summary message instead of a reply per run),
// `gantry resume --all` (only what it paused) and `gantry assignments cancel --agent NAME --all`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, Agent, Assignment, Message, StopAllResult } from '@gantry/protocol';
import { eventually, Sandbox } from './harness.ts';
import { connectArgs, createAgent, startHub } from './fixtures.ts';

describe('stop --all and resume --all', () => {
  const box = new Sandbox();
  let hubUrl: string;
  let ownerToken: string;

  beforeAll(async () => {
    const { ready } = await startHub(box);
    hubUrl = ready.url;
    ownerToken = ready.ownerToken;
    const bin = box.script('agent.sh', 'case "$1" in *slow*) sleep 60 & sleep 60 ;; esac; echo "did: $1"');
    for (const name of ['busy', 'idle', 'already']) {
      const agent = await createAgent(box, name);
      await box.json(connectArgs(hubUrl, agent.key, 'generic', bin));
    }
    await box.start(['gateway', 'start', '--port', '0', '--json'], { GANTRY_STOP_GRACE_MS: '300' }).ready();
    await box.json(['agents', 'pause', 'already']);
  }, 60_000);
  afterAll(() => box.cleanup());

  const show = (id: string) => box.json<Assignment>(['assignments', 'show', id]);

  async function activity(): Promise<ActivityEvent[]> {
    const response = await fetch(`${hubUrl}/v1/events?since=0`, {
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    return (await response.json()) as ActivityEvent[];
  }

  it('refuses without --all, and refuses a member', async () => {
    const bare = await box.run(['stop']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('stop needs --all');
    const member = await box.json<{ token: string }>(['users', 'add', 'mia', '--role', 'member']);
    const refused = await box.run(['stop', '--all'], { GANTRY_TOKEN: member.token });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('only an owner or admin can stop everything');
  });

  it('pauses every agent, cancels everything, one entry, one summary instead of a reply per run', async () => {
    // A mention runs `busy` (its reply would go in this thread); more work queues behind it.
    const sent = await box.json<{ message: Message }>(['send', '@busy a slow job']);
    const running = await eventually(async () => {
      const rows = await box.json<Assignment[]>(['assignments', 'list', '--agent', 'busy']);
      return rows.find((r) => r.state === 'running');
    });
    const queued = await box.json<Assignment>(['assign', 'busy', 'next one']);
    const held = await box.json<Assignment>(['assign', 'already', 'when resumed']);
    const before = (await activity()).at(-1)?.id ?? 0;

    const stopped = await box.json<StopAllResult>(['stop', '--all']);
    expect(stopped.paused.map((a) => a.name).sort()).toEqual(['busy', 'idle']);
    expect(stopped.cancelled.sort()).toEqual([running.id, queued.id, held.id].sort());
    expect(stopped).toMatchObject({ running: 1, queued: 2 });

    for (const id of stopped.cancelled)
      await eventually(async () => ((await show(id)).state === 'cancelled' ? true : undefined), 20_000);
    const agents = await box.json<Agent[]>(['agents', 'list']);
    expect(agents.every((a) => a.paused)).toBe(true);

    // One entry for the brake: no `agent.paused` per agent.
    const after = (await activity()).filter((e) => e.id > before);
    expect(after.filter((e) => e.type === 'workspace.stopped')).toHaveLength(1);
    expect(after.filter((e) => e.type === 'agent.paused')).toHaveLength(0);
    // The summary is the one message; the cancelled run posts no reply in its thread.
    const summary = await box.json<Message[]>(['messages', 'list', '--thread', stopped.messageId]);
    expect(summary[0]?.body).toMatch(
      /^Stopped everything .* paused 2 agent\(s\) .* cancelled 3 assignment\(s\)/,
    );
    const thread = await box.json<Message[]>(['messages', 'list', '--thread', sent.message.threadId]);
    expect(thread.map((m) => m.author.name)).toEqual(['owner']);
  }, 60_000);

  it('resume --all resumes only what stop --all paused', async () => {
    const text = await box.run(['resume', '--all']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Resumed 2 agent\(s\): (busy, idle|idle, busy)$/m);
    const agents = await box.json<Agent[]>(['agents', 'list']);
    expect(Object.fromEntries(agents.map((a) => [a.name, a.paused]))).toEqual({
      busy: false,
      idle: false,
      already: true,
    });
    const again = await box.run(['resume', '--all']);
    expect(again.stdout).toContain('Nothing to resume');
    const done = await box.json<Assignment>(['assign', 'idle', 'hello', '--wait', '20s']);
    expect(done.state).toBe('succeeded');
  }, 60_000);

  it('assignments cancel --agent NAME --all cancels every one of its assignments not ended', async () => {
    const a = await box.json<Assignment>(['assign', 'already', 'one']);
    const b = await box.json<Assignment>(['assign', 'already', 'two']);
    const result = await box.json<{ cancelled: string[] }>([
      'assignments',
      'cancel',
      '--agent',
      'already',
      '--all',
    ]);
    expect(result.cancelled.sort()).toEqual([a.id, b.id].sort());
    expect((await show(a.id)).state).toBe('cancelled');
    const usage = await box.run(['assignments', 'cancel', '--agent', 'already']);
    expect(usage.code).toBe(2);
  }, 60_000);

  it('assignments cancel --chain ID: the person who started the chain may, another member may not', async () => {
    const mia = await box.json<{ token: string }>(['users', 'add', 'mo', '--role', 'member']);
    const max = await box.json<{ token: string }>(['users', 'add', 'max', '--role', 'member']);
    // A person's assignment is the root of its own chain.
    const root = await box.json<Assignment>(['assign', 'already', 'a chain of mine'], {
      GANTRY_TOKEN: mia.token,
    });
    expect(root.chainId).toBe(root.id);
    const other = await box.run(['assignments', 'cancel', '--chain', root.chainId], {
      GANTRY_TOKEN: max.token,
    });
    expect(other.code).toBe(4);
    expect(other.stderr).toContain(`stop chain ${root.chainId}, which someone else started`);
    const mine = await box.run(['assignments', 'cancel', '--chain', root.chainId], {
      GANTRY_TOKEN: mia.token,
    });
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout).toContain(`cancelled 1 assignment(s) of chain ${root.chainId}: ${root.id}`);
    expect((await show(root.id)).state).toBe('cancelled');
    const none = await box.run(['assignments', 'cancel', '--chain', 'nope']);
    expect(none.code).toBe(3);
  }, 60_000);
});
