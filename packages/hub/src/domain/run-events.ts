/**
 * A run's events as its gateway sends them: stored once by (attempt, seq), with the seq up to
 * which the hub holds every one. That answer is remembered per recent attempt, so a batch that
 * simply continues the last one costs no extra query (counting a long run's events on every batch
 * would make it quadratic).
 */
import type { RunEvent } from '@gantry/protocol';
import type { NewEvent, Store } from '../store/store.ts';

/** Attempts whose contiguous seq is remembered; the oldest are forgotten first. */
const remembered = 10_000;

export class RunEventLog {
  /** The highest seq with no gap before it, per recent attempt (`id#attempt`). */
  private readonly contiguous = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** Stores a batch; returns the contiguous seq now, and the one known before (if remembered). */
  async append(
    id: string,
    attempt: number,
    events: RunEvent[],
  ): Promise<{ upTo: number; known: number | undefined }> {
    const rows: NewEvent[] = events.map((e) => ({
      seq: e.seq,
      type: e.type,
      ts: e.ts,
      data: JSON.stringify(e.data),
    }));
    const key = `${id}#${attempt}`;
    const known = this.contiguous.get(key);
    let upTo: number;
    if (known !== undefined && events.length > 0 && events.every((e, i) => e.seq === known + 1 + i)) {
      await this.store.events.insert(id, attempt, rows);
      upTo = known + events.length;
    } else {
      upTo = await this.store.events.append(id, attempt, rows);
    }
    // Delete and set again so the most recent attempts stay last; the oldest go first.
    this.contiguous.delete(key);
    this.contiguous.set(key, upTo);
    if (this.contiguous.size > remembered)
      this.contiguous.delete(this.contiguous.keys().next().value as string);
    return { upTo, known };
  }
}
