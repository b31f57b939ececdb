/**
 * The hub's memory of a run's latest events (RunEventLog): what a live follower reads from it is
 * exactly what the store holds after the same cursor; a replay, a gap or another attempt sends the
 * reader back to the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@gantry/protocol';
import { RunEventLog } from '../src/domain/run-events.ts';
import { openStore } from '../src/store/open.ts';
import type { AssignmentRow, Store } from '../src/store/store.ts';
import { assign, seed, T } from './store-fixtures.ts';

const ev = (seq: number, text = `line ${seq}`): RunEvent => ({
  seq,
  type: 'output',
  ts: new Date(T + seq).toISOString(),
  data: { text },
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ev(from + i));

describe('RunEventLog', () => {
  let store: Store;
  let a: AssignmentRow;

  beforeAll(async () => {
    store = await openStore(':memory:');
    a = await assign(store, await seed(store), T);
  });
  afterAll(() => store.close());

  /** Reads from the log and from the store after each cursor of the attempt; counts store reads. */
  async function compare(log: RunEventLog, attempt: number, upTo: number) {
    let storeReads = 0;
    const list = store.events.list.bind(store.events);
    store.events.list = (...args) => {
      storeReads += 1;
      return list(...args);
    };
    try {
      for (let seq = 0; seq <= upTo; seq++) {
        const after = { attempt, seq };
        const [fromLog, fromStore] = [await log.list(a.id, after, 50), await list(a.id, after, 50)];
        expect(fromLog).toEqual(fromStore);
      }
    } finally {
      store.events.list = list;
    }
    return storeReads;
  }

  it('serves followers what the store holds, from memory once batches continue each other', async () => {
    const log = new RunEventLog(store);
    expect((await log.append(a.id, 1, range(1, 10))).upTo).toBe(10); // first batch: counted in the store
    expect((await log.append(a.id, 1, range(11, 30))).upTo).toBe(30);
    expect((await log.append(a.id, 1, range(31, 40))).upTo).toBe(40);
    // Cursors 10..39 have their next event in memory; 0..9 (before it) and 40 (the end) read the store.
    expect(await compare(log, 1, 40)).toBe(11);
    expect(await log.list(a.id, undefined, 5)).toEqual(await store.events.list(a.id, undefined, 5));
  });

  it('forgets a run whose batch replays or skips: the store answers', async () => {
    const log = new RunEventLog(store);
    const b = await assign(store, await seed(store), T);
    await log.append(b.id, 1, range(1, 5));
    await log.append(b.id, 1, range(6, 10));
    await log.append(b.id, 1, [ev(8, 'replayed'), ev(9, 'replayed')]); // replay: the first write stays
    const after = { attempt: 1, seq: 5 };
    expect(await log.list(b.id, after, 50)).toEqual(await store.events.list(b.id, after, 50));
    expect((await log.list(b.id, after, 50)).map((e) => JSON.parse(e.data))).toContainEqual({
      text: 'line 8',
    });
    await log.append(b.id, 1, range(13, 14)); // a gap
    await log.append(b.id, 1, range(11, 12)); // filled
    await log.append(b.id, 1, range(15, 20));
    for (const seq of [4, 10, 12, 14, 19])
      expect(await log.list(b.id, { attempt: 1, seq }, 50)).toEqual(
        await store.events.list(b.id, { attempt: 1, seq }, 50),
      );
    // A later attempt: a cursor in the earlier one reads the store, which has both.
    await log.append(b.id, 2, range(1, 3));
    await log.append(b.id, 2, range(4, 6));
    expect(await log.list(b.id, { attempt: 1, seq: 18 }, 50)).toEqual(
      await store.events.list(b.id, { attempt: 1, seq: 18 }, 50),
    );
    expect((await log.list(b.id, { attempt: 2, seq: 3 }, 50)).map((e) => e.seq)).toEqual([4, 5, 6]);
  });

  it('keeps only the latest events of a long run, and pages by the limit', async () => {
    const log = new RunEventLog(store);
    const c = await assign(store, await seed(store), T);
    await log.append(c.id, 1, range(1, 1000));
    for (let from = 1001; from <= 12_000; from += 1000) await log.append(c.id, 1, range(from, from + 999));
    let storeReads = 0;
    const list = store.events.list.bind(store.events);
    store.events.list = (...args) => {
      storeReads += 1;
      return list(...args);
    };
    try {
      const early = { attempt: 1, seq: 1500 }; // trimmed from memory long ago
      expect(await log.list(c.id, early, 3)).toEqual(await list(c.id, early, 3));
      expect(storeReads).toBe(1);
      const late = { attempt: 1, seq: 11_500 };
      const rows = await log.list(c.id, late, 200);
      expect(storeReads).toBe(1);
      expect(rows.map((e) => e.seq)).toEqual(range(11_501, 11_700).map((e) => e.seq));
      expect(rows).toEqual(await list(c.id, late, 200));
    } finally {
      store.events.list = list;
    }
  });
});
