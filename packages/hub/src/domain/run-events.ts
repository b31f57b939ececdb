/**
 * A run's events as its gateway sends them: stored once by (attempt, seq), with the seq up to
 * which the hub holds every one. That answer is remembered per recent attempt, so a batch that
 * simply continues the last one costs no extra query (counting a long run's events on every batch
 * would make it quadratic). The latest events of recent runs are kept in memory as stored, so live
 * followers read them from here instead of reading the store again.
 */
import type { RunEvent } from '@gantry/protocol';
import type { EventRow, Store } from '../store/store.ts';

/** Attempts whose contiguous seq is remembered; the oldest are forgotten first. */
const remembered = 10_000;
/** Runs whose latest events are kept, and how many of each, in events and in bytes of data (at most twice that between trims). */
const recentRuns = 32;
const recentEvents = 4_096;
const recentBytes = 1 << 20;

/** Consecutive stored events of one attempt of a run: seqs `first` .. `first + rows.length - 1`. */
interface Recent {
  attempt: number;
  first: number;
  rows: EventRow[];
  /** Characters of data held. */
  bytes: number;
}

export class RunEventLog {
  /** The highest seq with no gap before it, per recent attempt (`id#attempt`). */
  private readonly contiguous = new Map<string, number>();
  /** Per assignment: its latest events, consecutive and all stored. */
  private readonly recent = new Map<string, Recent>();

  constructor(private readonly store: Store) {}

  /** Stores a batch; returns the contiguous seq now, and the one known before (if remembered). */
  async append(
    id: string,
    attempt: number,
    events: RunEvent[],
  ): Promise<{ upTo: number; known: number | undefined }> {
    // Made once: stored as they are and kept for followers as they are.
    const rows: EventRow[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as RunEvent;
      rows[i] = {
        assignment_id: id,
        attempt,
        seq: e.seq,
        type: e.type,
        ts: e.ts,
        data: JSON.stringify(e.data),
      };
    }
    const key = `${id}#${attempt}`;
    const known = this.contiguous.get(key);
    let upTo: number;
    if (known !== undefined && events.length > 0 && events.every((e, i) => e.seq === known + 1 + i)) {
      await this.store.events.insert(id, attempt, rows);
      upTo = known + events.length;
      this.keep(id, attempt, known, rows);
    } else {
      // A replay, a gap or a first batch: what memory holds of this run may not be what is stored.
      this.recent.delete(id);
      upTo = await this.store.events.append(id, attempt, rows);
    }
    // Delete and set again so the most recent attempts stay last; the oldest go first.
    this.contiguous.delete(key);
    this.contiguous.set(key, upTo);
    if (this.contiguous.size > remembered)
      this.contiguous.delete(this.contiguous.keys().next().value as string);
    return { upTo, known };
  }

  /**
   * A run's events in (attempt, seq) order after the cursor, as `store.events.list` returns them:
   * from memory when it holds the very next one, else from the store (an older cursor, another
   * attempt, events stored through another hub).
   */
  list(id: string, after: { attempt: number; seq: number } | undefined, limit: number): Promise<EventRow[]> {
    const held = this.recent.get(id);
    if (after && held && after.attempt === held.attempt) {
      const from = after.seq + 1 - held.first;
      if (from >= 0 && from < held.rows.length) return Promise.resolve(held.rows.slice(from, from + limit));
    }
    return this.store.events.list(id, after, limit);
  }

  /** Remembers a batch just stored right after seq `known`, when it continues what is held. */
  private keep(id: string, attempt: number, known: number, rows: EventRow[]): void {
    let held = this.recent.get(id);
    this.recent.delete(id);
    if (!held || held.attempt !== attempt || held.first + held.rows.length !== known + 1)
      held = { attempt, first: known + 1, rows: [], bytes: 0 };
    for (const r of rows) {
      held.rows.push(r);
      held.bytes += r.data.length;
    }
    if (held.rows.length > 2 * recentEvents || held.bytes > 2 * recentBytes) {
      let drop = 0;
      while (held.rows.length - drop > recentEvents || held.bytes > recentBytes) {
        held.bytes -= (held.rows[drop] as EventRow).data.length;
        drop += 1;
      }
      held.rows.splice(0, drop);
      held.first += drop;
    }
    this.recent.set(id, held);
    if (this.recent.size > recentRuns) this.recent.delete(this.recent.keys().next().value as string);
  }
}
