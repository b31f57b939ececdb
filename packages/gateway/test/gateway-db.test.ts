// Proves gateway.db keeps the outbox, attempts and provider sessions durably, and EventSink numbers and batches events.
import type BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@gantry/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventSink } from '../src/event-sink.ts';
import { GatewayDb, type AttemptRecord, type OutboxRow } from '../src/state/gateway-db.ts';

interface EventsFrame {
  t: string;
  assignmentId: string;
  attempt: number;
  events: RunEvent[];
}

let dir: string;
let path: string;
let db: GatewayDb;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-db-'));
  path = join(dir, 'state', 'gateway.db');
  db = new GatewayDb(path);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function eventsRow(assignmentId: string, attempt: number, lastSeq: number): Omit<OutboxRow, 'id'> {
  return { assignmentId, attempt, kind: 'events', lastSeq, frame: `{"events":${lastSeq}}` };
}

function resultRow(assignmentId: string, attempt: number, lastSeq = 0): Omit<OutboxRow, 'id'> {
  return { assignmentId, attempt, kind: 'result', lastSeq, frame: '{"t":"result"}' };
}

function attemptRecord(assignmentId: string, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    assignmentId,
    attempt: 1,
    agentId: 'agt_1',
    state: 'accepted',
    pid: null,
    pidStart: null,
    lastSeq: 0,
    ...overrides,
  };
}

/** The outbox as compact `assignment/attempt/kind/lastSeq` strings, in pending order. */
function outbox(): string[] {
  return db.pending().map((row) => `${row.assignmentId}/${row.attempt}/${row.kind}/${row.lastSeq}`);
}

function byId(records: AttemptRecord[]): AttemptRecord[] {
  return [...records].sort((a, b) =>
    `${a.assignmentId}/${a.attempt}`.localeCompare(`${b.assignmentId}/${b.attempt}`),
  );
}

function reopen(): void {
  db.close();
  db = new GatewayDb(path);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The events frames of the outbox rows, parsed. */
function frames(): EventsFrame[] {
  return db.pending().map((row) => JSON.parse(row.frame) as EventsFrame);
}

describe('GatewayDb outbox', () => {
  it('enqueues rows and returns them pending in insertion order with increasing ids', () => {
    const first = db.enqueue(eventsRow('a', 1, 3));
    const second = db.enqueue(resultRow('a', 1));
    const third = db.enqueue(eventsRow('b', 2, 5));

    expect(second).toBeGreaterThan(first);
    expect(third).toBeGreaterThan(second);
    expect(db.pending()).toEqual([
      { id: first, ...eventsRow('a', 1, 3) },
      { id: second, ...resultRow('a', 1) },
      { id: third, ...eventsRow('b', 2, 5) },
    ]);
    expect(db.pending(first).map((row) => row.id)).toEqual([second, third]);
    expect(db.pending(0, 2).map((row) => row.id)).toEqual([first, second]);
    expect(db.outboxDepth()).toBe(3);
  });

  it('ackEvents removes only events rows of that attempt with last_seq <= seq', () => {
    db.enqueue(eventsRow('a', 1, 10));
    db.enqueue(eventsRow('a', 1, 20));
    db.enqueue(eventsRow('a', 1, 30));
    db.enqueue(resultRow('a', 1, 30));
    db.enqueue(eventsRow('a', 2, 5));
    db.enqueue(eventsRow('b', 1, 5));

    db.ackEvents('a', 1, 20);

    expect(outbox()).toEqual(['a/1/events/30', 'a/1/result/30', 'a/2/events/5', 'b/1/events/5']);
    expect(db.outboxDepth()).toBe(4);

    db.ackEvents('a', 1, 1_000);
    expect(outbox()).toEqual(['a/1/result/30', 'a/2/events/5', 'b/1/events/5']);
  });

  it('ackResult removes the result row and the attempt record, leaving other rows and attempts', () => {
    db.recordAttempt(attemptRecord('a'));
    db.recordAttempt(attemptRecord('b'));
    db.enqueue(eventsRow('a', 1, 4));
    db.enqueue(resultRow('a', 1, 4));
    db.enqueue(resultRow('a', 2, 0));
    db.enqueue(resultRow('b', 1, 0));

    db.ackResult('a', 1);

    expect(outbox()).toEqual(['a/1/events/4', 'a/2/result/0', 'b/1/result/0']);
    expect(db.attempts().map((r) => r.assignmentId)).toEqual(['b']);
    expect(db.outboxDepth()).toBe(3);
  });

  it('counts zero on an empty outbox', () => {
    expect(db.outboxDepth()).toBe(0);
    expect(db.pending()).toEqual([]);
  });
});

describe('GatewayDb attempts', () => {
  it('records, upserts (state and pid) and forgets attempts', () => {
    db.recordAttempt(attemptRecord('a'));
    db.recordAttempt(attemptRecord('a', { attempt: 2, agentId: 'agt_2', state: 'starting' }));
    db.recordAttempt(attemptRecord('b', { state: 'running', pid: 4242 }));

    expect(byId(db.attempts())).toEqual([
      attemptRecord('a'),
      attemptRecord('a', { attempt: 2, agentId: 'agt_2', state: 'starting' }),
      attemptRecord('b', { state: 'running', pid: 4242 }),
    ]);

    db.recordAttempt(attemptRecord('a', { state: 'running', pid: 777 }));
    db.forgetAttempt('b', 1);
    db.forgetAttempt('nope', 1);

    expect(byId(db.attempts())).toEqual([
      attemptRecord('a', { state: 'running', pid: 777 }),
      attemptRecord('a', { attempt: 2, agentId: 'agt_2', state: 'starting' }),
    ]);
  });
});

describe('GatewayDb last event numbers (a run taken back after a restart numbers on from them)', () => {
  it("an events frame raises its attempt's last event number with it; it never goes down", () => {
    db.recordAttempt(attemptRecord('a', { state: 'running' }));
    db.enqueueEvents({ assignmentId: 'a', attempt: 1, lastSeq: 5, frame: '{}' });
    db.enqueueEvents({ assignmentId: 'a', attempt: 1, lastSeq: 3, frame: '{}' });
    expect(db.attempts()[0]?.lastSeq).toBe(5);
    db.ackEvents('a', 1, 5); // acked and gone from the outbox: the number stays
    db.recordAttempt(attemptRecord('a', { state: 'running', pid: 7 }));
    expect(db.attempts()[0]).toMatchObject({ lastSeq: 5, pid: 7 });
  });

  it('an EventSink taken back numbers on from the spawn and drops what was written already', () => {
    db.recordAttempt(attemptRecord('a', { state: 'running' }));
    const frames: string[] = [];
    const sink = new EventSink(db, 'a', 1, (_id, frame) => frames.push(frame), { seq: 2, skipThrough: 4 });
    for (const text of ['x', 'y', 'z']) sink.emit('output', { text });
    sink.flush();
    const events = frames.flatMap((f) => (JSON.parse(f) as EventsFrame).events);
    expect(events.map((e) => [e.seq, e.data.text])).toEqual([[5, 'z']]);
    expect(db.attempts()[0]?.lastSeq).toBe(5);
  });

  it('a database made before the column gains it', () => {
    db.close();
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    const old = new Database(path);
    old.exec('drop table attempts');
    old.exec(`create table attempts (assignment_id text not null, attempt integer not null, agent_id text not null,
      state text not null, pid integer, pid_start text, created_at integer not null, updated_at integer not null,
      primary key (assignment_id, attempt))`);
    old.close();
    db = new GatewayDb(path);
    db.recordAttempt(attemptRecord('a', { state: 'running' }));
    expect(db.attempts()).toEqual([attemptRecord('a', { state: 'running' })]);
  });
});

describe('GatewayDb provider sessions', () => {
  it('saves, overwrites and looks up resume ids per (agent, session key)', () => {
    expect(db.resumeId('agt_1', 'default')).toBeUndefined();

    db.saveResumeId('agt_1', 'default', 'generic', 'sess-1', '/work/one');
    db.saveResumeId('agt_1', 'other', 'generic', 'sess-2', '/work/two');
    db.saveResumeId('agt_2', 'default', 'echo', 'sess-3', '/work/three');
    db.saveResumeId('agt_1', 'default', 'claude', 'sess-4', '/work/four');

    expect(db.resumeId('agt_1', 'default')).toEqual({
      resumeId: 'sess-4',
      workdir: '/work/four',
      provider: 'claude',
    });
    expect(db.resumeId('agt_1', 'other')).toEqual({
      resumeId: 'sess-2',
      workdir: '/work/two',
      provider: 'generic',
    });
    expect(db.resumeId('agt_2', 'default')).toEqual({
      resumeId: 'sess-3',
      workdir: '/work/three',
      provider: 'echo',
    });
    expect(db.resumeId('agt_2', 'other')).toBeUndefined();
  });
});

describe('GatewayDb durability', () => {
  it('keeps the outbox, attempts and sessions across closing and reopening the file', () => {
    db.enqueue(eventsRow('a', 1, 7));
    db.enqueue(resultRow('a', 1, 7));
    db.recordAttempt(attemptRecord('a', { state: 'running', pid: 99 }));
    db.saveResumeId('agt_1', 'default', 'generic', 'sess-1', '/work');
    const before = db.pending();

    reopen();

    expect(db.pending()).toEqual(before);
    expect(db.outboxDepth()).toBe(2);
    expect(db.attempts()).toEqual([attemptRecord('a', { state: 'running', pid: 99 })]);
    expect(db.resumeId('agt_1', 'default')).toEqual({
      resumeId: 'sess-1',
      workdir: '/work',
      provider: 'generic',
    });

    // ids keep increasing after a reopen, so pending(afterId) stays correct
    const next = db.enqueue(eventsRow('a', 1, 8));
    expect(next).toBeGreaterThan(before[1]!.id);
  });
});

describe('EventSink', () => {
  function sink(assignmentId = 'asg_1', attempt = 2) {
    let queued = 0;
    const events = new EventSink(db, assignmentId, attempt, () => (queued += 1));
    return { events, queued: () => queued };
  }

  it('numbers events from seq 1, consecutively, and batches close events into one frame', async () => {
    const { events, queued } = sink();
    expect(events.lastSeq).toBe(0);

    events.emit('status', { text: 'starting' });
    events.emit('output', { text: 'hello' });
    events.emit('result', { text: 'done' });
    expect(events.lastSeq).toBe(3);
    expect(db.outboxDepth()).toBe(0); // not yet: the batch waits a few ms

    await sleep(50);

    const rows = db.pending();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ assignmentId: 'asg_1', attempt: 2, kind: 'events', lastSeq: 3 });
    const frame = JSON.parse(rows[0]!.frame) as EventsFrame;
    expect(frame).toEqual({
      t: 'events',
      assignmentId: 'asg_1',
      attempt: 2,
      events: [
        { seq: 1, type: 'status', ts: expect.any(String), data: { text: 'starting' } },
        { seq: 2, type: 'output', ts: expect.any(String), data: { text: 'hello' } },
        { seq: 3, type: 'result', ts: expect.any(String), data: { text: 'done' } },
      ],
    });
    expect(Number.isNaN(Date.parse(frame.events[0]!.ts))).toBe(false);
    expect(queued()).toBe(1);
  });

  it('flush() writes the batch immediately, and an empty flush writes nothing', async () => {
    const { events, queued } = sink();
    events.flush();
    expect(db.outboxDepth()).toBe(0);
    expect(queued()).toBe(0);

    events.emit('output', { text: 'a' });
    events.flush();
    expect(db.outboxDepth()).toBe(1);
    expect(queued()).toBe(1);

    events.emit('output', { text: 'b' });
    events.flush();
    await sleep(30); // the cancelled timer must not write anything more

    expect(frames().map((f) => f.events.map((e) => e.seq))).toEqual([[1], [2]]);
    expect(db.pending().map((row) => row.lastSeq)).toEqual([1, 2]);
    expect(queued()).toBe(2);
  });

  it('splits 1300 synchronous events into batches of at most 1000 with consecutive seqs across rows', async () => {
    const { events, queued } = sink();
    for (let i = 0; i < 1300; i++) events.emit('output', { text: `line ${i}` });
    await sleep(50);

    const rows = db.pending();
    const batches = frames().map((f) => f.events);
    expect(batches.map((b) => b.length)).toEqual([1000, 300]);
    expect(batches.flat().map((e) => e.seq)).toEqual(Array.from({ length: 1300 }, (_, i) => i + 1));
    expect(batches.flat().map((e) => e.data.text)).toEqual(
      Array.from({ length: 1300 }, (_, i) => `line ${i}`),
    );
    expect(rows.map((row) => row.lastSeq)).toEqual([1000, 1300]);
    expect(queued()).toBe(rows.length);
  });

  it('keeps numbering across batches written at different times', async () => {
    const { events } = sink();
    events.emit('output', { text: 'first' });
    await sleep(30);
    events.emit('output', { text: 'second' });
    events.emit('output', { text: 'third' });
    await sleep(30);

    expect(frames().map((f) => f.events.map((e) => e.seq))).toEqual([[1], [2, 3]]);
    expect(db.pending().map((row) => row.lastSeq)).toEqual([1, 3]);
  });
});
