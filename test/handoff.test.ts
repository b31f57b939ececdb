// Handoff, discover and ping through a real hub, gateway and `gantry listen` processes: adaptive
// wait returns at once for an agent nobody listens for, waits for one that is live, loops until the
// completion promise or the round limit; discover tells live, queue-only and unreachable apart;
// ping measures the round trip to a gateway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentReach, Handoff, Message, PingResult, Task } from '@gantry/protocol';
import { eventually, Sandbox, type Service } from './harness.ts';
import { connectArgs, createAgent, startHub } from './fixtures.ts';

describe('handoff, discover and ping', () => {
  const box = new Sandbox();
  /** Another machine: its gateway is registered for `sleeper` but never started. */
  const elsewhere = new Sandbox();
  let hubUrl: string;
  let ownerToken: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    const { ready } = await startHub(box);
    hubUrl = ready.url;
    ownerToken = ready.ownerToken;
    const worker = await createAgent(box, 'worker');
    await createAgent(box, 'ghost');
    const sleeper = await createAgent(box, 'sleeper');
    for (const name of ['mailbox', 'buddy', 'looper']) keys[name] = await passThrough(name);
    await box.json(connectArgs(hubUrl, worker.key, 'echo'));
    await box.start(['gateway', 'start', '--port', '0', '--json']).ready();
    await elsewhere.json(connectArgs(hubUrl, sleeper.key, 'echo'));
    const rounds = `${box.home}/rounds`;
    await Promise.all([
      listen('buddy', box.script('buddy.sh', 'echo "buddy did: $1"')),
      // Keeps its promise only from the second round on, and only when the promise asked is DONE.
      listen(
        'looper',
        box.script(
          'looper.sh',
          `mkdir -p ${rounds}; f=${rounds}/$GANTRY_THREAD_ID; n=$(( $(cat $f 2>/dev/null || echo 0) + 1 )); echo $n > $f
if [ $n -ge 2 ] && printf %s "$1" | grep -q '<promise>DONE</promise>'; then echo "all green <promise>DONE</promise>"; else echo "round $n"; fi`,
        ),
      ),
    ]);
  }, 60_000);
  afterAll(async () => {
    await box.cleanup();
    await elsewhere.cleanup();
  });

  async function passThrough(name: string): Promise<string> {
    const response = await fetch(`${hubUrl}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, kind: 'pass_through' }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { key: string }).key;
  }

  /** `gantry listen` as the agent, ready once the hub sees it waiting on its inbox. */
  async function listen(agent: string, script: string): Promise<Service> {
    const service = box.start(['listen', '--agent', agent, '--exec', script, '--json'], {
      GANTRY_TOKEN: keys[agent],
    });
    await service.ready();
    await eventually(async () => ((await reach(agent)).reachability === 'live' ? true : undefined));
    return service;
  }

  async function reach(name: string): Promise<AgentReach> {
    const all = await box.json<AgentReach[]>(['agents', 'discover']);
    const found = all.find((a) => a.agent.name === name);
    if (!found) throw new Error(`${name} is not in discover`);
    return found;
  }

  it('discover tells live, queue-only and unreachable agents apart', async () => {
    const all = await box.json<AgentReach[]>(['agents', 'discover']);
    const by = Object.fromEntries(all.map((a) => [a.agent.name, a]));
    expect(by.worker).toMatchObject({ reachability: 'live', via: [expect.stringMatching(/^gateway:/)] });
    expect(by.buddy).toMatchObject({ reachability: 'live', via: ['inbox'] });
    expect(by.sleeper).toMatchObject({
      reachability: 'queue-only',
      via: [expect.stringMatching(/^gateway:.* \(offline\)$/)],
    });
    expect(by.mailbox).toMatchObject({ reachability: 'queue-only', via: ['mailbox'] });
    expect(by.ghost).toMatchObject({ reachability: 'unreachable', via: [] });

    const text = await box.run(['agents', 'discover']);
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+REACHABILITY\s+VIA$/);
    expect(lines.find((l) => l.startsWith('ghost '))).toMatch(/managed\s+unreachable/);
    expect(lines.find((l) => l.startsWith('buddy '))).toMatch(/pass_through\s+live\s+inbox/);
  });

  it('ping measures the round trip to the gateway serving an agent', async () => {
    const ping = await box.json<PingResult>(['agents', 'ping', 'worker', '--timeout', '3s']);
    expect(ping).toMatchObject({ reachability: 'live', timedOut: false });
    expect(ping.gateway).toBeTruthy();
    expect(ping.rttMs).toBeGreaterThan(0);
    expect(ping.rttMs).toBeLessThan(3000);
    const text = await box.run(['agents', 'ping', 'worker']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^worker: live via gateway \S+, round trip [\d.]+ ms$/m);

    // An inbox waiter is live with nothing to measure; an agent nothing serves exits 1.
    const buddy = await box.run(['agents', 'ping', 'buddy', '--json']);
    expect(buddy.code).toBe(0);
    expect(JSON.parse(buddy.stdout)).toMatchObject({ reachability: 'live', rttMs: null });
    const ghost = await box.run(['agents', 'ping', 'ghost']);
    expect(ghost.code).toBe(1);
    expect(ghost.stdout).toContain('ghost: unreachable');
    const nobody = await box.run(['agents', 'ping', 'nobody']);
    expect(nobody.code).toBe(3);
  });

  it('returns queued_not_listening at once for an agent nobody serves, and the work stays queued', async () => {
    const started = Date.now();
    const run = await box.run([
      'handoff',
      'ghost',
      'Fix the outage\nthe login page is down',
      '--intent',
      'incident',
      '--json',
    ]);
    const took = Date.now() - started;
    expect(run.code).toBe(0);
    // The CLI may wait 5 minutes; most of this is its own start-up on a busy machine.
    expect(took).toBeLessThan(3000);
    // The hub alone, allowed to wait a minute, answers at once.
    const asked = Date.now();
    const response = await fetch(`${hubUrl}/v1/handoffs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'ghost', prompt: 'anyone there?', waitMs: 60_000 }),
    });
    expect(response.status).toBe(201);
    expect(((await response.json()) as Handoff).status).toBe('queued_not_listening');
    expect(Date.now() - asked).toBeLessThan(500);
    const result = JSON.parse(run.stdout) as Handoff;
    expect(result).toMatchObject({
      status: 'queued_not_listening',
      reply: null,
      rounds: 1,
      reachability: 'unreachable',
    });
    const task = await box.json<Task>(['tasks', 'show', result.taskId as string]);
    expect(task).toMatchObject({
      title: 'Fix the outage',
      status: 'in_progress',
      priority: 'urgent',
      intent: 'incident',
      assignee: { name: 'ghost' },
      threadId: result.threadId,
    });
    const thread = await box.json<Message[]>(['messages', 'list', '--thread', result.threadId]);
    expect(thread).toHaveLength(1);
    expect(thread[0]).toMatchObject({
      body: '[incident] Fix the outage\nthe login page is down',
      mentions: [{ name: 'ghost' }],
      metadata: { taskId: result.taskId },
    });

    // A pass-through agent with nobody waiting is queue-only: the same, said plainly.
    const text = await box.run(['handoff', 'mailbox', 'read this later']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^queued_not_listening: mailbox is queue-only/);
  });

  it('waits without adaptive wait and times out with 124', async () => {
    const run = await box.run([
      'handoff',
      'ghost',
      'anyone?',
      '--no-adaptive-wait',
      '--timeout',
      '700ms',
      '--json',
    ]);
    expect(run.code).toBe(124);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'timeout', reply: null });
    expect(run.stderr).toContain('no reply from ghost');
  });

  it('returns replied with the reply of a live listener and the task it did', async () => {
    const result = await box.json<Handoff>(['handoff', 'buddy', 'Review the docs', '--intent', 'review']);
    expect(result.status).toBe('replied');
    expect(result.reply).toMatchObject({
      author: { name: 'buddy' },
      body: 'buddy did: [review] Review the docs',
      parentId: result.id,
      threadId: result.threadId,
    });
    const task = await eventually(async () => {
      const t = await box.json<Task>(['tasks', 'show', result.taskId as string]);
      return t.status === 'done' ? t : undefined;
    });
    expect(task).toMatchObject({ priority: 'medium', intent: 'review', assignee: { name: 'buddy' } });

    const text = await box.run(['handoff', 'buddy', 'ship it', '--intent', 'implement']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('buddy did: [implement] ship it\n');
  });

  it('returns replied for a managed agent on a gateway: the task is its one run', async () => {
    const result = await box.json<Handoff>(['handoff', 'worker', 'say hi']);
    expect(result.status).toBe('replied');
    expect(result.reply?.author.name).toBe('worker');
    expect(result.reply?.body).toContain('say hi');
    const task = await eventually(async () => {
      const t = await box.json<Task>(['tasks', 'show', result.taskId as string]);
      return t.status === 'done' ? t : undefined;
    });
    expect(task.assignmentId).toBeTruthy();
  });

  it('--loop re-prompts in the thread until the reply keeps the promise', async () => {
    const run = await box.run([
      'handoff',
      'looper',
      'make the tests pass',
      '--loop',
      '--max-rounds',
      '4',
      '--completion-promise',
      'DONE',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Handoff;
    expect(result).toMatchObject({ status: 'loop_complete', rounds: 2 });
    expect(result.reply?.body).toBe('all green <promise>DONE</promise>');
    const thread = await box.json<Message[]>(['messages', 'list', '--thread', result.threadId]);
    expect(thread.map((m) => [m.author.name, m.body.split('\n')[0]])).toEqual([
      ['owner', 'make the tests pass'],
      ['looper', 'round 1'],
      ['owner', 'continue; say <promise>DONE</promise> when done'],
      ['looper', 'all green <promise>DONE</promise>'],
    ]);
    expect(thread[2]?.parentId).toBe(thread[1]?.id);
  });

  it('--max-rounds ends a loop whose promise never comes with loop_max_rounds and exit 1', async () => {
    const run = await box.run([
      'handoff',
      'looper',
      'try forever',
      '--loop',
      '--max-rounds',
      '2',
      '--completion-promise',
      'NEVER',
      '--json',
    ]);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as Handoff;
    expect(result).toMatchObject({ status: 'loop_max_rounds', rounds: 2, reply: { body: 'round 2' } });
    expect(run.stderr).toContain('after 2 rounds');
  });

  it('--follow-up keeps the conversation in the thread: [r]eply, then [e]xit', async () => {
    const run = await box.run(['handoff', 'buddy', 'first', '--follow-up'], {}, { input: 'r\nsecond\ne\n' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('buddy did: first\nbuddy did: second\n');
    expect(run.stderr).toContain('[r]eply, [e]xit, [n]o reply');

    // [n]o reply waits for the agent's next message; the listener sends none, so the wait runs out.
    const quiet = await box.run(
      ['handoff', 'buddy', 'once', '--follow-up', '--timeout', '1s'],
      {},
      { input: 'n\n' },
    );
    expect(quiet.code).toBe(124);
    expect(quiet.stdout).toBe('buddy did: once\n');
    expect(quiet.stderr).toContain('no reply from buddy within 1.0s');
  });

  it('refuses bad flags with a usage error', async () => {
    const noPromise = await box.run(['handoff', 'buddy', 'x', '--loop']);
    expect(noPromise.code).toBe(2);
    expect(noPromise.stderr).toContain('--completion-promise');
    const intent = await box.run(['handoff', 'buddy', 'x', '--intent', 'party']);
    expect(intent.code).toBe(2);
    const unknown = await box.run(['handoff', 'nobody', 'x']);
    expect(unknown.code).toBe(3);
  });
});
