/**
 * Numbers one attempt's events (seq from 1) and batches them into `events` frames in the outbox:
 * a batch is written after a few milliseconds or a few hundred events, whichever comes first.
 * A run taken back after a restart numbers on from where it was before it spawned and drops the
 * events already written (`skipThrough`): replaying its spooled output makes them again.
 */
import { limitDepth, maxJsonDepth, type RunEvent } from '@gantry/protocol';
import type { GatewayDb } from './state/gateway-db.ts';

const batchMs = 5;
/** The protocol's limit for one `events` frame. */
const batchMax = 1000;
/** An event's data sits three levels down in its frame (frame, events, event), which must stay within the hub's nesting limit. */
const dataLevels = maxJsonDepth - 3;

export class EventSink {
  private seq = 0;
  private batch: RunEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The last event's time, and as text: a run's events come many to the millisecond. */
  private lastMs = 0;
  private lastTs = '';

  constructor(
    private readonly db: GatewayDb,
    private readonly assignmentId: string,
    private readonly attempt: number,
    private readonly onQueued: (id: number, frame: string) => void,
    from: { seq: number; skipThrough: number } = { seq: 0, skipThrough: 0 },
  ) {
    this.seq = from.seq;
    this.skipThrough = from.skipThrough;
  }

  private readonly skipThrough: number;

  get lastSeq(): number {
    return this.seq;
  }

  emit(type: string, data: Record<string, unknown>): void {
    this.seq += 1;
    if (this.seq <= this.skipThrough) return;
    // A provider's own JSON can nest any depth: cut deeper than the hub reads, never refused there.
    const kept = limitDepth(data, dataLevels) as Record<string, unknown>;
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastTs = new Date(now).toISOString();
    }
    this.batch.push({ seq: this.seq, type, ts: this.lastTs, data: kept });
    if (this.batch.length >= batchMax) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), batchMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const events = this.batch;
    this.batch = [];
    const frame = JSON.stringify({
      t: 'events',
      assignmentId: this.assignmentId,
      attempt: this.attempt,
      events,
    });
    const id = this.db.enqueueEvents({
      assignmentId: this.assignmentId,
      attempt: this.attempt,
      lastSeq: this.seq,
      frame,
    });
    this.onQueued(id, frame);
  }
}
