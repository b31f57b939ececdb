// Managed agents at work through a real hub, gateway and CLI: a mention runs the agent and its result
// comes back as its threaded reply; a follow-up continues the conversation; agents never answer
// themselves and agent chains stop at the chain's depth limit (`--mention-hop-limit`, its alias); a paused agent's mentions wait and then run in
// order; a task assigned to a managed agent runs once and its outcome moves the task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activityDefinition,
  type ActivityEvent,
  type Agent,
  type Assignment,
  type Message,
  type Task,
} from '@gantry/protocol';
import { eventually, Sandbox, sleep, type Service } from './harness.ts';
import { connectArgs, createAgent, startHub } from './fixtures.ts';

const queueTtlMs = 4000;
const hubArgs = ['--mention-hop-limit', '3', '--queue-ttl-ms', String(queueTtlMs)];

// The generic provider runs this with the prompt as $1: ping and pong mention each other; any other
// agent reports the session it resumed and the prompt it got, or fails when asked to.
const agentScript = `
case "$GANTRY_AGENT_NAME" in
  ping) echo "@pong your turn"; exit 0 ;;
  pong) echo "@ping your turn"; exit 0 ;;
esac
case "$1" in
  *please-fail*) echo "it broke" >&2; exit 3 ;;
  *slow-please*) sleep 2 ;;
  *until-cancelled*) sleep 60 ;;
esac
echo 'GANTRY_EVENT {"type":"session","id":"conv-'"$GANTRY_ASSIGNMENT_ID"'"}'
echo "resume=\${GANTRY_RESUME_ID:-none}"
echo "prompt<<$1>>"
`;

describe('managed agents answer mentions and work on tasks', () => {
  const box = new Sandbox();
  let hub: Service;
  let hubUrl: string;
  let events: Service;
  let ownerId: string;
  let coderKey: string;

  beforeAll(async () => {
    const started = await startHub(box, hubArgs);
    hub = started.hub;
    hubUrl = started.ready.url;
    const bin = box.script('agent.sh', agentScript);
    const keys = await Promise.all(['coder', 'ping', 'pong'].map((name) => createAgent(box, name)));
    coderKey = keys[0]?.key as string;
    const helper = await createAgent(box, 'helper');
    for (const { key } of keys) {
      await box.json(connectArgs(hubUrl, key, 'generic', bin));
    }
    await box.json(connectArgs(hubUrl, helper.key, 'echo'));
    // One run at a time, so the order in which queued work runs shows in its timestamps.
    await box
      .start(['gateway', 'start', '--port', '0', '--concurrency', '1', '--json'], {
        GANTRY_STOP_GRACE_MS: '500',
      })
      .ready();
    events = box.start(['events', 'stream', '--since', '0', '--json']);
    const me = await box.json<{ principal: { id: string } }>(['whoami']);
    ownerId = me.principal.id;
  });
  afterAll(() => box.cleanup());

  const send = async (text: string, args: string[] = [], env: Record<string, string> = {}) =>
    (await box.json<{ message: Message }>(['send', text, ...args], env)).message;
  const thread = (id: string, env: Record<string, string> = {}) =>
    box.json<Message[]>(['messages', 'list', '--thread', id, '--limit', '1000'], env);
  const assignment = (id: string) => box.json<Assignment>(['assignments', 'show', id]);
  const everything = (): ActivityEvent[] =>
    events.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as ActivityEvent);
  const activity = (type: string): ActivityEvent[] => everything().filter((e) => e.type === type);
  /** The agent's reply to a message (waits for it). */
  const replyTo = (message: Message, timeoutMs = 20_000) =>
    eventually(
      async () =>
        (await thread(message.threadId)).find((m) => m.parentId === message.id && m.author.kind === 'agent'),
      timeoutMs,
    );

  it("answers a user's mention with a threaded reply by the agent, on the sender's conversation", async () => {
    const message = await send('@coder hello there');
    const reply = await replyTo(message);
    expect(reply).toMatchObject({
      author: { kind: 'agent', name: 'coder' },
      parentId: message.id,
      threadId: message.id,
      metadata: { state: 'succeeded' },
    });
    expect(reply.body).toContain('resume=none');
    expect(reply.body).toContain('prompt<<@coder hello there>>');
    expect(reply.mentions.map((p) => p.id)).toEqual([ownerId]);
    const run = await assignment(reply.metadata.assignmentId as string);
    expect(run).toMatchObject({ sessionKey: `dm:${ownerId}`, mode: 'continue', state: 'succeeded' });
    expect(activity('mention.dispatched')).toContainEqual(
      expect.objectContaining({
        data: expect.objectContaining({ messageId: message.id, assignmentId: run.id }) as unknown,
      }),
    );
    // The run read the mention (it is its prompt): it is not left in the agent's unread mail.
    const unread = await box.json<Message[]>(['messages', 'list', '--unread'], { GANTRY_TOKEN: coderKey });
    expect(unread.map((m) => m.id)).not.toContain(message.id);
    await eventually(async () =>
      activity('message.read').find(
        (e) =>
          (e.data.reader as { name: string }).name === 'coder' &&
          (e.data.messageIds as string[]).includes(message.id),
      ),
    );

    // A reply to the agent's message is addressed to it: it continues the same conversation, with
    // the thread so far in its prompt.
    const followUp = await send('and what did I say first?', ['--parent', reply.id]);
    const second = await replyTo(followUp);
    expect(second.threadId).toBe(message.id);
    expect(second.body).toContain(`resume=conv-${run.id}`);
    expect(second.body).toContain('owner: @coder hello there');
    expect(second.body).toContain('coder: resume=none');
    expect(second.body).toContain('from owner:\nand what did I say first?>>');
    const secondRun = await assignment(second.metadata.assignmentId as string);
    expect(secondRun.sessionKey).toBe(run.sessionKey);
  });

  it('never runs an agent for its own message', async () => {
    const own = await send('@coder note to self', [], { GANTRY_TOKEN: coderKey });
    // Work is dispatched in the order of the activity log: once this later mention is answered,
    // the earlier one has been decided too.
    const later = await send('@coder after the note');
    await replyTo(later);
    expect(activity('mention.dispatched').map((e) => e.data.messageId)).not.toContain(own.id);
    const runs = await box.json<Assignment[]>(['assignments', 'list', '--agent', 'coder', '--limit', '1000']);
    expect(runs.filter((r) => r.prompt.includes('note to self'))).toEqual([]);
    expect(await thread(own.id, { GANTRY_TOKEN: coderKey })).toHaveLength(1);
  });

  it('stops a chain of agents answering agents at the depth limit', async () => {
    const start = await send('@ping start');
    const limited = await eventually(async () =>
      activity('chain.limit_reached').find(
        (e) => e.data.agent && (e.data.agent as { name: string }).name === 'pong',
      ),
    );
    const messages = await thread(start.id);
    // ping (depth 1), pong (2), ping (3): the third reply's mention of pong runs nothing.
    expect(messages.map((m) => m.author.name)).toEqual(['owner', 'ping', 'pong', 'ping']);
    expect(messages.map((m) => m.depth)).toEqual([0, 1, 2, 3]);
    expect(new Set(messages.map((m) => m.chainId))).toEqual(new Set([start.id]));
    expect(limited.data).toMatchObject({
      chainId: start.id,
      messageId: messages[3]?.id,
      limit: 'depth',
      depth: 4,
      maxDepth: 3,
    });
    const runs = await box.json<Assignment[]>(['assignments', 'list', '--limit', '1000']);
    expect(runs.filter((r) => r.agent.name === 'ping' || r.agent.name === 'pong')).toHaveLength(3);
  });

  it("queues a paused agent's mentions without running them and runs them in order on resume", async () => {
    const denied = await box.run(['agents', 'pause', 'coder'], { GANTRY_TOKEN: coderKey });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain('only a user');
    const unknown = await box.run(['agents', 'pause', 'nobody']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("no agent named or with id 'nobody'");

    const paused = await box.json<{ agent: Agent; queued: number }>(['agents', 'pause', 'coder']);
    expect(paused.agent.paused).toBe(true);
    const listed = await box.json<Agent[]>(['agents', 'list']);
    expect(listed.find((a) => a.name === 'coder')?.paused).toBe(true);
    expect((await box.run(['agents', 'list'])).stdout).toMatch(/coder\s+\S+\s+managed\s+paused/);

    const first = await send('@coder first while paused');
    const second = await send('@coder second while paused');
    const queued = await eventually(async () => {
      const found = activity('mention.dispatched').filter(
        (e) => e.data.messageId === first.id || e.data.messageId === second.id,
      );
      return found.length === 2 ? found.map((e) => e.data.assignmentId as string) : undefined;
    });
    // The gateway is connected and free: other work runs, the paused agent's waits, past the queue TTL.
    const control = await box.json<Assignment>(['assign', 'helper', 'control', '--wait']);
    expect(control.state).toBe('succeeded');
    await sleep(queueTtlMs + 1000);
    for (const id of queued) expect((await assignment(id)).state).toBe('queued');
    expect(activity('agent.paused').at(-1)?.data).toMatchObject({ agent: { name: 'coder' } });

    const resumed = await box.json<{ agent: Agent; queued: number }>(['agents', 'resume', 'coder']);
    expect(resumed.agent.paused).toBe(false);
    const [a, b] = [await replyTo(first), await replyTo(second)];
    expect(a.body).toContain('first while paused');
    expect(b.body).toContain('second while paused');
    const [runA, runB] = [await assignment(queued[0] as string), await assignment(queued[1] as string)];
    expect(Date.parse(runA.finishedAt as string)).toBeLessThanOrEqual(Date.parse(runB.startedAt as string));
    expect(activity('agent.resumed').at(-1)?.data).toMatchObject({ agent: { name: 'coder' } });
  }, 60_000);

  it('runs a task assigned to a managed agent once and moves it to done', async () => {
    const task = await box.json<Task>([
      'tasks',
      'create',
      'Write the release notes',
      '--body',
      'cover the new commands',
      '--assign',
      'coder',
      '--intent',
      'implement',
    ]);
    const done = await eventually(async () => {
      const t = await box.json<Task>(['tasks', 'show', task.id]);
      return t.status === 'done' ? t : undefined;
    });
    const run = await assignment(done.assignmentId as string);
    expect(run).toMatchObject({ sessionKey: `task:${task.id}`, state: 'succeeded' });
    expect(run.prompt).toContain(`Task ${task.id}: Write the release notes`);
    expect(run.prompt).toContain('cover the new commands');
    expect(run.prompt).toContain('Implement this');
    const runs = await box.json<Assignment[]>(['assignments', 'list', '--agent', 'coder', '--limit', '1000']);
    expect(runs.filter((r) => r.sessionKey === `task:${task.id}`)).toHaveLength(1);
  });

  it('moves the task of a failing run to blocked with the error, and says so in a reply', async () => {
    const task = await box.json<Task>(['tasks', 'create', 'please-fail on purpose', '--assign', 'coder']);
    const blocked = await eventually(async () => {
      const t = await box.json<Task>(['tasks', 'show', task.id]);
      return t.status === 'blocked' ? t : undefined;
    });
    expect(blocked.error).toContain('provider_failed');

    const message = await send('@coder please-fail now');
    const reply = await replyTo(message);
    expect(reply.metadata).toMatchObject({ state: 'failed' });
    expect(reply.body).toMatch(/^The run failed \(provider_failed\): /);
  });

  it('cancels the run of a task that is cancelled while it runs', async () => {
    const task = await box.json<Task>(['tasks', 'create', 'run until-cancelled', '--assign', 'coder']);
    const running = await eventually(async () => {
      const t = await box.json<Task>(['tasks', 'show', task.id]);
      return t.status === 'in_progress' && t.assignmentId ? t : undefined;
    });
    await box.json(['tasks', 'update', task.id, '--status', 'cancelled']);
    const run = await eventually(async () => {
      const a = await assignment(running.assignmentId as string);
      return a.state === 'cancelled' ? a : undefined;
    });
    expect(run.error?.code).toBe('cancelled');
    expect((await box.json<Task>(['tasks', 'show', task.id])).status).toBe('cancelled');
  });

  it('replies once for a run that ends across a hub restart', async () => {
    const message = await send('@coder slow-please then answer');
    const id = await eventually(async () => {
      const e = activity('mention.dispatched').find((x) => x.data.messageId === message.id);
      if (!e) return undefined;
      const run = await assignment(e.data.assignmentId as string);
      return run.state === 'running' ? run.id : undefined;
    });
    await hub.stop();
    const port = new URL(hubUrl).port;
    hub = box.start(['hub', 'start', '--port', port, '--json', ...hubArgs]);
    await hub.ready();
    const reply = await replyTo(message, 30_000);
    expect(reply.metadata).toMatchObject({ assignmentId: id, state: 'succeeded' });
    // A later mention is answered after it, and the first run still has exactly one reply.
    await replyTo(await send('@coder anything else?'));
    const replies = (await thread(message.id)).filter((m) => m.metadata.assignmentId === id);
    expect(replies).toHaveLength(1);
  });

  it('streams every entry as its protocol definition has it, and none of the dispatcher’s own fields', () => {
    const all = everything();
    const types = new Set(all.map((e) => e.type));
    for (const type of ['message.created', 'task.created', 'task.updated', 'mention.dispatched']) {
      expect(types).toContain(type);
    }
    expect(types).toContain('chain.limit_reached');
    expect(types).toContain('assignment.finished');
    for (const entry of all) {
      const definition = activityDefinition(entry.type);
      expect(definition, entry.type).toBeDefined();
      // Parsing drops what a definition does not name: nothing is dropped.
      expect(definition?.data.parse(entry.data), entry.type).toEqual(entry.data);
    }
    const leaks = all.filter((e) => 'dispatch' in e.data || 'hops' in e.data || 'wakes' in e.data);
    expect(leaks).toEqual([]);
  });
});
