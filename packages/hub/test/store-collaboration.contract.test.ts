/**
 * The store contract for collaboration, on SQLite and PostgreSQL alike: the activity log, messages
 * and mailboxes, tasks, context entries and their chunks, the work dispatcher's records, and
 * transactions that write several of them at once.
 */
import { expect, it } from 'vitest';
import type { ActivityRow } from '../src/store/activity.ts';
import type { Repositories } from '../src/store/repositories.ts';
import type { MessageRow } from '../src/store/messages.ts';
import type { Store } from '../src/store/store.ts';
import type { TaskRow } from '../src/store/tasks.ts';
import type { WorkRow } from '../src/store/work.ts';
import { assign, at, describeContract, ids, unique, type Seed } from './store-fixtures.ts';

function entry(s: Seed, type: string, n: number): Omit<ActivityRow, 'id'> {
  return {
    workspace_id: s.ws.id,
    type,
    ts: at(n),
    actor_kind: 'user',
    actor_id: s.user.id,
    actor_name: 'ada',
    subject: `subject-${n}`,
    data: JSON.stringify({ n }),
    internal: n % 2 === 0 ? JSON.stringify({ hops: n }) : null,
  };
}

/** A message posted the way the domain posts one: its entry's id is its seq, then its mailbox rows. */
async function post(
  tx: Repositories,
  s: Seed,
  body: string,
  options: { author?: { kind: string; id: string; name: string }; parent?: MessageRow; to?: string[] } = {},
): Promise<MessageRow> {
  const author = options.author ?? { kind: 'user', id: s.user.id, name: 'ada' };
  const logged = await tx.activity.insert(entry(s, 'message.created', 1));
  const id = unique('msg');
  const row: MessageRow = {
    id,
    workspace_id: s.ws.id,
    author_kind: author.kind,
    author_id: author.id,
    author_name: author.name,
    body,
    mentions: JSON.stringify((options.to ?? []).map((r) => ({ kind: 'agent', id: r, name: r }))),
    parent_id: options.parent?.id ?? null,
    thread_id: options.parent?.thread_id ?? id,
    metadata: JSON.stringify({ n: body }),
    hops: 0,
    created_at: T(logged.id),
    seq: logged.id,
    chain_id: id,
    depth: 0,
  };
  await tx.messages.insert(row);
  await tx.mailbox.deliver(
    id,
    logged.id,
    (options.to ?? []).map((r) => ({ kind: 'agent', id: r })),
  );
  return row;
}
const T = (n: number) => at(n);

function task(s: Seed, title: string, n: number, patch: Partial<TaskRow> = {}): TaskRow {
  return {
    id: unique('tsk'),
    workspace_id: s.ws.id,
    title,
    body: '',
    status: 'open',
    priority: 'medium',
    intent: 'general',
    assignee_id: null,
    created_by_kind: 'user',
    created_by_id: s.user.id,
    assignment_id: null,
    thread_id: null,
    error: null,
    created_at: at(n),
    updated_at: at(n),
    ...patch,
  };
}

function work(s: Seed, trigger: number, patch: Partial<WorkRow> = {}): WorkRow {
  return {
    trigger_id: trigger,
    agent_id: s.agent.id,
    workspace_id: s.ws.id,
    message_id: null,
    thread_id: null,
    task_id: null,
    session_key: '',
    assignment_id: null,
    chain_id: null,
    depth: 0,
    state: 'claimed',
    reply_id: null,
    created_at: at(trigger),
    updated_at: at(trigger),
    ...patch,
  };
}

/** A trigger id no other case uses (work rows are keyed by it across workspaces). */
const trigger = () => 3_000_000_000 + Math.floor(Math.random() * 1_000_000_000);

describeContract('store contract: collaboration', (c) => {
  const store = (): Store => c.store;

  it('activity: ids follow the counter in commit order; read by workspace, by type, and the newest id', async () => {
    const { s } = c;
    const a = await store().activity.insert(entry(s, 'task.created', 1));
    const b = await store().transaction((tx) => tx.activity.insert(entry(s, 'message.created', 2)));
    expect(b.id).toBeGreaterThan(a.id);
    expect(b).toMatchObject({ workspace_id: s.ws.id, type: 'message.created', internal: '{"hops":2}' });
    const other = await store().users.createWorkspace(unique('ws'));
    await store().activity.insert({ ...entry(s, 'task.created', 3), workspace_id: other.id });

    expect(await store().activity.since(s.ws.id, 0, 100)).toEqual([a, b]);
    expect(await store().activity.since(s.ws.id, a.id, 100)).toEqual([b]);
    expect(await store().activity.since(s.ws.id, 0, 1)).toEqual([a]);
    // Newest first, before an id or from the end; never another workspace's.
    expect(await store().activity.before(s.ws.id, undefined, 100)).toEqual([b, a]);
    expect(await store().activity.before(s.ws.id, undefined, 1)).toEqual([b]);
    expect(await store().activity.before(s.ws.id, b.id, 100)).toEqual([a]);
    expect(await store().activity.before(s.ws.id, a.id, 100)).toEqual([]);
    const messages = await store().activity.ofTypes(['message.created'], a.id - 1, 1000);
    expect(messages.map((r) => r.id)).toContain(b.id);
    expect(messages.map((r) => r.id)).not.toContain(a.id);
    expect(await store().activity.lastId(s.ws.id)).toBe(b.id);
    expect(await store().activity.lastId()).toBeGreaterThan(b.id);
    expect(await store().activity.lastId(unique('ws'))).toBe(0);
  });

  it('activity: entries appended at once, each on its own, get distinct ids in the order they commit', async () => {
    const { s } = c;
    const before = await store().activity.lastId();
    // PostgreSQL appends in one statement, atomic without a transaction; SQLite needs one.
    const append = (n: number) =>
      store().activity.insertIsAtomic
        ? store().activity.insert(entry(s, 'task.created', n))
        : store().transaction((tx) => tx.activity.insert(entry(s, 'task.created', n)));
    const rows = await Promise.all(Array.from({ length: 20 }, (_, n) => append(n)));
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(20);
    expect(Math.min(...ids)).toBeGreaterThan(before);
    const read = await store().activity.since(s.ws.id, before, 100);
    expect(read.map((r) => r.id)).toEqual([...ids].sort((a, b) => a - b));
    for (const row of rows) expect(read.find((r) => r.id === row.id)).toEqual(row);
    expect(store().activity.insertIsAtomic).toBe(store().kind === 'postgres');
  });

  it('a transaction that throws writes nothing', async () => {
    const { s } = c;
    const before = await store().activity.lastId(s.ws.id);
    await expect(
      store().transaction(async (tx) => {
        await tx.activity.insert(entry(s, 'task.created', 1));
        await tx.tasks.insert(task(s, 'never', 1));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await store().activity.lastId(s.ws.id)).toBe(before);
    expect(await store().tasks.list(s.ws.id)).toEqual([]);
  });

  it('messages: in threads by seq; who took part; a thread read back and forth from a point', async () => {
    const { s } = c;
    const root = await store().transaction((tx) => post(tx, s, 'root', { to: [s.agent.id] }));
    const reply = await store().transaction((tx) =>
      post(tx, s, 'reply', { parent: root, author: { kind: 'agent', id: s.agent.id, name: 'claude' } }),
    );
    const more = await store().transaction((tx) => post(tx, s, 'more', { parent: root }));
    expect(await store().messages.get(root.id)).toEqual(root);
    expect(await store().messages.inWorkspace(s.ws.id, reply.id)).toEqual(reply);
    expect(await store().messages.inWorkspace(unique('ws'), reply.id)).toBeUndefined();

    expect(await store().messages.inThread(s.ws.id, s.user.id, root.id)).toBe(true); // its author
    expect(await store().messages.inThread(s.ws.id, s.agent.id, root.id)).toBe(true); // sent one
    expect(await store().messages.inThread(s.ws.id, unique('usr'), root.id)).toBe(false);

    expect(ids(await store().messages.latestInThread(s.ws.id, root.id, 10))).toEqual(
      ids([more, reply, root]),
    );
    expect(ids(await store().messages.latestInThread(s.ws.id, root.id, 1, more.seq))).toEqual(ids([reply]));
    expect(ids(await store().messages.threadFrom(s.ws.id, root.id, reply.seq, 10))).toEqual(
      ids([reply, more]),
    );
    expect(ids(await store().messages.threadFrom(s.ws.id, root.id, root.seq, 2))).toEqual(ids([root, reply]));

    const first = await store().messages.firstReply(s.ws.id, root.id, root.seq, [s.agent.id, unique('x')]);
    expect(first?.id).toBe(reply.id);
    expect(await store().messages.firstReply(s.ws.id, root.id, reply.seq, [s.agent.id])).toBeUndefined();
    expect(await store().messages.repliesBy(root.id, root.id, s.agent.id)).toEqual([
      { id: reply.id, metadata: reply.metadata },
    ]);
  });

  it('mailbox: listed as the recipient sees it; claimed once; delivered and read marks', async () => {
    const { s } = c;
    const me = s.agent.id;
    const one = await store().transaction((tx) => post(tx, s, 'one', { to: [me] }));
    const two = await store().transaction((tx) => post(tx, s, 'two', { to: [me] }));
    const notMine = await store().transaction((tx) => post(tx, s, 'not mine'));
    const mine = await store().mailbox.list(s.ws.id, me, { ownOnly: true });
    expect(ids(mine)).toEqual(ids([one, two]));
    expect(mine[0]).toMatchObject({ mail_recipient: me, mail_read_at: null, body: 'one' });
    const all = await store().mailbox.list(s.ws.id, me, {}, { newest: true, limit: 10 });
    expect(ids(all)).toEqual(ids([notMine, two, one]));
    expect(all[0]).toMatchObject({ mail_recipient: null });
    expect(ids(await store().mailbox.list(s.ws.id, me, { threadId: two.thread_id }))).toEqual(ids([two]));
    expect(ids(await store().mailbox.list(s.ws.id, me, { ids: [two.id, notMine.id] }))).toEqual(
      ids([two, notMine]),
    );
    expect(await store().mailbox.list(s.ws.id, me, { ids: [] })).toEqual([]);

    expect(await store().mailbox.undelivered(me, 1)).toEqual([one.id]);
    expect(await store().mailbox.undelivered(me, 10)).toEqual([one.id, two.id]);
    // Oldest first, up to the limit; what a claim took is not claimed again; others' mail never is.
    expect(await store().mailbox.claimOldest(me, 1)).toEqual([one.id]);
    expect(await store().mailbox.claimOldest(me, 10)).toEqual([two.id]);
    expect(await store().mailbox.claimOldest(me, 10)).toEqual([]);
    expect(await store().mailbox.undelivered(me, 10)).toEqual([]);

    const three = await store().transaction((tx) => post(tx, s, 'three', { to: [me] }));
    await store().mailbox.markDelivered(me, [three.id]);
    expect(await store().mailbox.undelivered(me, 10)).toEqual([]);
    expect(await store().mailbox.unreadCounts([me, s.user.id])).toEqual(new Map([[me, 3]]));
    expect(await store().mailbox.unreadCounts([])).toEqual(new Map());
    expect(await store().mailbox.markRead(me, [one.id, notMine.id])).toEqual([one.id]);
    expect(await store().mailbox.unreadCounts([me])).toEqual(new Map([[me, 2]]));
    expect(await store().mailbox.markRead(me, [])).toEqual([]);
    expect(ids(await store().mailbox.list(s.ws.id, me, { unread: true }))).toEqual(ids([two, three]));
    expect((await store().mailbox.markRead(me)).sort()).toEqual([two.id, three.id].sort());
    expect(await store().mailbox.list(s.ws.id, me, { unread: true })).toEqual([]);

    // A claim that reads too: handed out and read in one statement; read mail is never claimed.
    const four = await store().transaction((tx) => post(tx, s, 'four', { to: [me] }));
    const five = await store().transaction((tx) => post(tx, s, 'five', { to: [me] }));
    await store().mailbox.markRead(me, [five.id]);
    expect(await store().mailbox.undelivered(me, 10)).toEqual([four.id]);
    expect(await store().mailbox.claimOldest(me, 10, { read: true })).toEqual([four.id]);
    expect(await store().mailbox.list(s.ws.id, me, { ids: [four.id] })).toMatchObject([
      { mail_recipient: me, mail_read_at: expect.any(Number) as number },
    ]);
    expect(await store().mailbox.unreadCounts([me])).toEqual(new Map());
  });

  it('tasks: insert, get (within a workspace), list by change, update, lock, the parties they name', async () => {
    const { s } = c;
    const a = task(s, 'first', 1);
    const b = task(s, 'second', 2, { assignee_id: s.agent.id, status: 'in_progress' });
    await store().tasks.insert(a);
    await store().tasks.insert(b);
    expect(await store().tasks.get(a.id)).toEqual(a);
    expect(await store().tasks.get(a.id, s.ws.id)).toEqual(a);
    expect(await store().tasks.get(a.id, unique('ws'))).toBeUndefined();
    expect(ids(await store().tasks.list(s.ws.id))).toEqual(ids([b, a]));
    expect(ids(await store().tasks.list(s.ws.id, { assigneeId: s.agent.id }))).toEqual(ids([b]));
    expect(ids(await store().tasks.list(s.ws.id, { status: 'open' }))).toEqual(ids([a]));
    expect(ids(await store().tasks.list(s.ws.id, { limit: 1 }))).toEqual(ids([b]));

    await store().transaction(async (tx) => {
      const locked = await tx.tasks.forUpdate(s.ws.id, a.id);
      expect(locked).toEqual(a);
      await tx.tasks.update(a.id, { status: 'done', updated_at: at(3) });
    });
    expect(await store().tasks.get(a.id)).toMatchObject({ status: 'done', updated_at: at(3) });
    expect(await store().tasks.forUpdate(unique('ws'), a.id)).toBeUndefined();

    const parties = await store().tasks.parties(s.ws.id, [s.agent.id, s.user.id, unique('nobody')]);
    expect([...parties.values()]).toEqual([
      { kind: 'agent', id: s.agent.id, name: 'claude' },
      { kind: 'user', id: s.user.id, name: 'ada' },
    ]);
    expect((await store().tasks.parties(s.ws.id, [])).size).toBe(0);
  });

  it('context: put (replacing says what it replaced), get, list by prefix, delete; chunks by upload', async () => {
    const { s } = c;
    const value = (key: string, v: string, upload: string | null = null) => ({
      workspace_id: s.ws.id,
      key,
      kind: upload ? 'file' : 'value',
      value: upload ? null : v,
      content_type: 'text/plain',
      size: v.length,
      sha256: null,
      updated_by: 'ada',
      updated_at: T(1),
      upload_id: upload,
    });
    expect(await store().context.put(value('notes/a', 'one'))).toEqual({ replaced: false, uploadId: null });
    const upload = unique('upl');
    await store().context.insertChunk({
      workspace_id: s.ws.id,
      key: 'notes/a',
      upload_id: upload,
      n: 0,
      bytes: Buffer.from('ab'),
    });
    await store().context.insertChunk({
      workspace_id: s.ws.id,
      key: 'notes/a',
      upload_id: upload,
      n: 1,
      bytes: Buffer.from('c'),
    });
    expect(await store().transaction((tx) => tx.context.put(value('notes/a', 'abc', upload)))).toEqual({
      replaced: true,
      uploadId: null,
    });
    expect(await store().context.put(value('notes/a', 'two'))).toEqual({ replaced: true, uploadId: upload });
    await store().context.put(value('notes/b', 'three'));
    await store().context.put(value('other', 'four'));
    expect(await store().context.get(s.ws.id, 'notes/a')).toMatchObject({ value: 'two', kind: 'value' });
    expect((await store().context.list(s.ws.id, 'notes/', 10)).map((r) => r.key)).toEqual([
      'notes/a',
      'notes/b',
    ]);
    expect((await store().context.list(s.ws.id, '', 2)).map((r) => r.key)).toEqual(['notes/a', 'notes/b']);

    expect(Buffer.from((await store().context.chunk(upload, 0)) ?? [])).toEqual(Buffer.from('ab'));
    expect(Buffer.from((await store().context.chunk(upload, 1)) ?? [])).toEqual(Buffer.from('c'));
    expect(await store().context.chunk(upload, 2)).toBeUndefined();
    await store().context.dropChunks(upload);
    expect(await store().context.chunk(upload, 0)).toBeUndefined();

    await store().context.delete(s.ws.id, 'notes/a');
    expect(await store().context.get(s.ws.id, 'notes/a')).toBeUndefined();
  });

  it('work: claimed once per (trigger, agent); moved by compare-and-set; found by assignment, thread and task', async () => {
    const { s } = c;
    const t = trigger();
    const key = { trigger: t, agentId: s.agent.id };
    const taskId = unique('tsk');
    expect(
      await store().work.claim(work(s, t, { thread_id: 'thr', task_id: taskId, session_key: 'thread:thr' })),
    ).toBe(true);
    expect(await store().work.claim(work(s, t))).toBe(false);
    expect(await store().work.pendingOnTask(taskId, s.agent.id)).toBe(true);
    expect(await store().work.threadSession('thr', s.agent.id)).toBe('thread:thr');
    expect(await store().work.threadSession('thr', unique('agt'))).toBeUndefined();

    const a = await assign(store(), s, at(1));
    expect(await store().work.set(key, { state: 'dispatched', assignment_id: a.id })).toBe(true);
    expect(await store().work.byAssignment(a.id)).toMatchObject({ trigger_id: t, state: 'dispatched' });
    expect(await store().work.set(key, { state: 'finishing' }, 'claimed')).toBe(false);
    expect(await store().work.set(key, { state: 'finishing' }, 'dispatched')).toBe(true);
    const unfinished = (await store().work.unfinished()).filter((w) => w.trigger_id === t);
    expect(unfinished.map((w) => w.state)).toEqual(['finishing']);
    expect(await store().work.pendingOnTask(taskId, s.agent.id)).toBe(false);
    expect(await store().work.set({ trigger: t + 1, agentId: s.agent.id }, { state: 'done' })).toBe(false);

    const cut = trigger();
    await store().work.claim(work(s, cut));
    await store().work.dropClaimed();
    expect((await store().work.unfinished()).filter((w) => w.trigger_id === cut)).toEqual([]);
    expect((await store().work.unfinished()).filter((w) => w.trigger_id === t)).toHaveLength(1);
  });

  it("assignments: an agent's queued work counted, and its queue wait restarted", async () => {
    const { s } = c;
    const a = await assign(store(), s, at(1));
    await assign(store(), s, at(2));
    expect(await store().assignments.countQueued(s.agent.id)).toBe(2);
    await store().assignments.transition(a.id, ['queued'], { state: 'cancelled' });
    expect(await store().assignments.countQueued(s.agent.id)).toBe(1);
    await store().assignments.touchQueued(s.agent.id, at(50));
    const queued = (await store().assignments.list(s.ws.id, { state: 'queued' }))[0];
    expect(queued?.updated_at).toBe(at(50));
    expect((await store().assignments.get(a.id))?.updated_at).not.toBe(at(50));
  });

  it('events: a batch stored while another caller is inside a transaction outlives its rollback', async () => {
    const { s } = c;
    const a = await assign(store(), s, at(1));
    let begun!: () => void;
    const inTransaction = new Promise<void>((resolve) => (begun = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const doomed = store().transaction(async (tx) => {
      await tx.assignments.get(a.id);
      begun();
      await held;
      throw new Error('rolled back');
    });
    await inTransaction;
    const stored = store().events.insert(a.id, 1, [{ seq: 1, type: 'output', ts: 'now', data: '"kept"' }]);
    release();
    await expect(doomed).rejects.toThrow('rolled back');
    await stored;
    expect((await store().events.list(a.id)).map((e) => e.data)).toEqual(['"kept"']);
  });

  it('events: insert stores a batch once, without counting', async () => {
    const { s } = c;
    const a = await assign(store(), s, at(1));
    const row = (seq: number) => ({ seq, type: 'output', ts: 'now', data: `"${seq}"` });
    await store().events.insert(a.id, 1, [row(1), row(2)]);
    await store().events.insert(a.id, 1, [{ ...row(2), data: '"again"' }, row(3)]);
    await store().events.insert(a.id, 1, []);
    const stored = await store().events.list(a.id);
    expect(stored.map((e) => [e.seq, e.data])).toEqual([
      [1, '"1"'],
      [2, '"2"'],
      [3, '"3"'],
    ]);
  });
});
