// `gantry tasks` through a real hub: create, list, show and update as a user and as an agent, the
// activity every change emits, usage errors, and a task assigned to a managed agent that runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskSchema, type ActivityEvent, type Task } from '@gantry/protocol';
import { eventually, Sandbox, savedSession } from './harness.ts';
import { connectArgs, createAgent, startHub, type HubReady } from './fixtures.ts';

describe('tasks', () => {
  const box = new Sandbox();
  let hub: HubReady;
  let bob: { id: string; key: string };
  let runner: { id: string; key: string };

  /** The workspace's activity log after `since`, as the owner reads it. */
  const activity = async (since = 0): Promise<ActivityEvent[]> => {
    const res = await fetch(`${hub.url}/v1/events?since=${since}`, {
      headers: { authorization: `Bearer ${hub.ownerToken}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as ActivityEvent[];
  };
  const entriesFor = async (taskId: string) => (await activity()).filter((e) => e.subject === taskId);
  /** The runs a task started: `assignment.created` entries with its prompt. */
  const runsOf = async (taskId: string) =>
    (await activity()).filter(
      (e) => e.type === 'assignment.created' && String(e.data.prompt).startsWith(`Task ${taskId}:`),
    );

  beforeAll(async () => {
    ({ ready: hub } = await startHub(box));
    bob = await createAgent(box, 'bob');
    runner = await createAgent(box, 'runner');
  });
  afterAll(() => box.cleanup());

  it('creates a task with defaults and options, and says so in the activity log', async () => {
    const plain = taskSchema.parse(await box.json(['tasks', 'create', 'Write the notes']));
    expect(plain).toMatchObject({
      title: 'Write the notes',
      body: '',
      status: 'open',
      priority: 'medium',
      intent: 'general',
      assignee: null,
      createdBy: { kind: 'user', name: 'owner' },
      assignmentId: null,
      threadId: null,
      error: null,
    });
    expect(plain.id).toMatch(/^tsk_/);

    const task = taskSchema.parse(
      await box.json([
        'tasks',
        'create',
        'Fix the flaky test',
        '--body',
        'test/x.test.ts fails one run in ten',
        '--assign',
        'bob',
        '--priority',
        'high',
        '--intent',
        'implement',
      ]),
    );
    expect(task).toMatchObject({
      title: 'Fix the flaky test',
      body: 'test/x.test.ts fails one run in ten',
      priority: 'high',
      intent: 'implement',
      status: 'open',
      assignee: { kind: 'agent', id: bob.id, name: 'bob' },
    });

    const [created] = await entriesFor(task.id);
    expect(created).toMatchObject({
      type: 'task.created',
      actor: { kind: 'user', name: 'owner' },
      subject: task.id,
      data: { task: { id: task.id, assignee: { name: 'bob' } }, changes: [] },
    });
    // The work dispatcher's own mark stays in the hub.
    expect(created?.data).not.toHaveProperty('dispatch');
    // Assigned to a managed agent: a run of it is queued for bob. Nobody to run the other one.
    expect(await eventually(async () => (await runsOf(task.id)).length || undefined)).toBe(1);
    expect(await runsOf(plain.id)).toEqual([]);

    const text = await box.run(['tasks', 'create', 'Review the docs', '--assign', 'owner']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Created task tsk_\w+: Review the docs \(open, medium, assigned to owner\)/);
  });

  it('lists, filters by --mine and --status, and shows one task', async () => {
    const mine = await box.json<Task[]>(['tasks', 'list', '--mine']);
    expect(mine.map((t) => t.title)).toEqual(['Review the docs']);

    const bobs = await box.json<Task[]>(['tasks', 'list', '--mine'], { GANTRY_TOKEN: bob.key });
    expect(bobs.map((t) => t.title)).toEqual(['Fix the flaky test']);

    const all = await box.json<Task[]>(['tasks', 'list']);
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const t of all) taskSchema.parse(t);

    const id = bobs[0]?.id as string;
    expect(await box.json(['tasks', 'show', id])).toEqual(bobs[0]);
    const text = await box.run(['tasks', 'show', id]);
    expect(text.stdout).toContain('Title       Fix the flaky test');
    expect(text.stdout).toContain('Assignee    bob (agent');

    const table = await box.run(['tasks', 'list', '--status', 'open']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+PRIORITY\s+ASSIGNEE\s+UPDATED\s+TITLE$/);
    expect(await box.json<Task[]>(['tasks', 'list', '--status', 'cancelled'])).toEqual([]);

    const missing = await box.run(['tasks', 'show', 'tsk_nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('gantry: no task tsk_nope (see `gantry tasks list`)\n');
  });

  it('updates status and assignee, one task.updated naming the changed fields each', async () => {
    const task = taskSchema.parse(await box.json(['tasks', 'create', 'Ship it']));
    const blocked = taskSchema.parse(await box.json(['tasks', 'update', task.id, '--status', 'blocked']));
    expect(blocked.status).toBe('blocked');
    expect(Date.parse(blocked.updatedAt)).toBeGreaterThanOrEqual(Date.parse(task.updatedAt));

    const assigned = taskSchema.parse(
      await box.json(['tasks', 'update', task.id, '--assign', 'owner', '--status', 'in_progress']),
    );
    expect(assigned).toMatchObject({ status: 'in_progress', assignee: { kind: 'user', name: 'owner' } });
    // Nothing changes: nothing is recorded.
    await box.json(['tasks', 'update', task.id, '--status', 'in_progress']);
    const unassigned = taskSchema.parse(await box.json(['tasks', 'update', task.id, '--unassign']));
    expect(unassigned.assignee).toBeNull();

    const entries = await entriesFor(task.id);
    expect(entries.map((e) => [e.type, e.data.changes])).toEqual([
      ['task.created', []],
      ['task.updated', ['status']],
      ['task.updated', ['status', 'assignee']],
      ['task.updated', ['assignee']],
    ]);
    expect(entries[2]?.data.task).toMatchObject({ status: 'in_progress', assignee: { name: 'owner' } });
    // Assigning to a user runs nothing.
    expect(entries.some((e) => 'dispatch' in e.data)).toBe(false);

    const text = await box.run(['tasks', 'update', task.id, '--status', 'done']);
    expect(text.stdout).toBe(`${task.id} done, medium, unassigned: Ship it\n`);
  });

  it('refuses bad values with the allowed list and exit 2', async () => {
    const priority = await box.run(['tasks', 'create', 'x', '--priority', 'extreme']);
    expect(priority.code).toBe(2);
    expect(priority.stderr).toContain('Allowed choices are low, medium, high, urgent');
    const status = await box.run(['tasks', 'update', 'tsk_x', '--status', 'finished']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('Allowed choices are open, in_progress, blocked, done, cancelled');
    const intent = await box.run(['tasks', 'create', 'x', '--intent', 'chat']);
    expect(intent.code).toBe(2);
    expect(intent.stderr).toContain('Allowed choices are general, review, implement, qa, status, incident');
    const nothing = await box.run(['tasks', 'update', 'tsk_x']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/^gantry: nothing to update: pass --status/);
    const nobody = await box.run(['tasks', 'create', 'x', '--assign', 'nobody']);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain('no agent or user named @nobody');
    expect((await box.json<Task[]>(['tasks', 'list'])).some((t) => t.title === 'x')).toBe(false);
  });

  it('lets an agent create and update tasks as itself; a gateway token may not', async () => {
    const as = { GANTRY_TOKEN: bob.key };
    const task = taskSchema.parse(
      await box.json(['tasks', 'create', 'Ask owner about the release', '--assign', 'owner'], as),
    );
    expect(task.createdBy).toEqual({ kind: 'agent', id: bob.id, name: 'bob' });
    const done = taskSchema.parse(await box.json(['tasks', 'update', task.id, '--status', 'done'], as));
    expect(done.status).toBe('done');
    const entries = await entriesFor(task.id);
    expect(entries.map((e) => [e.type, e.actor])).toEqual([
      ['task.created', { kind: 'agent', id: bob.id, name: 'bob' }],
      ['task.updated', { kind: 'agent', id: bob.id, name: 'bob' }],
    ]);

    // `gateway connect` registers a gateway: its token is for the gateway's own work only.
    await box.json(connectArgs(hub.url, runner.key, 'echo'));
    const session = savedSession(box.home) as {
      gatewayToken: string;
    };
    const refused = await box.run(['tasks', 'list'], { GANTRY_TOKEN: session.gatewayToken });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('a gateway token cannot use tasks');
  });

  it("assigning a task to a managed agent runs it, and the run's outcome moves the task", async () => {
    // `runner` is attached to the gateway registered above (echo provider).
    await box.start(['gateway', 'start', '--port', '0', '--json']).ready();
    const task = taskSchema.parse(
      await box.json(['tasks', 'create', 'Say hello', '--body', 'just say it', '--assign', 'runner']),
    );
    const done = await eventually(async () => {
      const t = await box.json<Task>(['tasks', 'show', task.id]);
      return t.status === 'done' ? t : undefined;
    }, 20_000);
    expect(done.assignmentId).toMatch(/^asg_/);
    const entries = await entriesFor(task.id);
    const statuses = entries.filter((e) => (e.data.changes as string[]).includes('status'));
    // Picked up (in_progress, unless the run ended first), then done; each said by the agent.
    expect(statuses.map((e) => (e.data.task as Task).status).at(-1)).toBe('done');
    expect(new Set(statuses.map((e) => e.actor?.name))).toEqual(new Set(['runner']));

    // Assigned to it again once finished: one more run, and the task follows that one.
    const again = taskSchema.parse(await box.json(['tasks', 'update', task.id, '--assign', 'runner']));
    expect(again).toMatchObject({ status: 'open', assignmentId: null });
    const redone = await eventually(async () => {
      const t = await box.json<Task>(['tasks', 'show', task.id]);
      return t.status === 'done' && t.assignmentId ? t : undefined;
    }, 20_000);
    expect(redone.assignmentId).not.toBe(done.assignmentId);
    expect((await runsOf(task.id)).map((e) => e.data.assignmentId)).toEqual([
      done.assignmentId,
      redone.assignmentId,
    ]);
  });
});
