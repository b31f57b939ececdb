/**
 * The hub's in-process bus. Domain code emits what changed; the dispatcher and SSE streams
 * subscribe. Payloads are ids, never data: subscribers re-read the store, so a missed or
 * coalesced notice costs nothing (the same rule a PostgreSQL LISTEN/NOTIFY bus will follow).
 * Every wait for something to appear in the store is `watch`, written once over `on`.
 */
import { EventEmitter } from 'node:events';

export interface BusEvents {
  /** An assignment needs a gateway (created or requeued). */
  queued: { assignmentId: string; agentId: string };
  /** An agent was resumed: its queued work may be offered again. */
  resumed: { agentId: string };
  /** An assignment's state or events changed. */
  assignment: { assignmentId: string };
  /** A workspace's activity log grew (its newest id). */
  activity: { workspaceId: string; id: number; type: string };
  /** A recipient got mail. */
  mailbox: { recipientId: string };
  /** A device approval was asked for or decided (wakes the gateway connection waiting on it). */
  approval: { approvalId: string; gatewayId: string };
  /** Tokens were revoked: connections authenticated with them end (auth/revocation.ts). */
  revoked: { tokenIds: string[] };
  /** Browser sessions were signed out: streams opened with them end (auth/revocation.ts). */
  sessionEnded: { sessionIds: string[] };
}

export type Topic = keyof BusEvents;

const maxTimerMs = 2 ** 31 - 1;

export interface WatchOptions {
  /** Epoch milliseconds: past it the watch gives up (after one read at least). */
  deadline?: number;
  /** Aborting ends the watch at once (an aborted signal: before any read). */
  signal?: AbortSignal;
}

/** What every bus offers: the in-process one below, and a database-backed one behind the same interface. */
export interface NoticeBus {
  emit<K extends Topic>(topic: K, payload: BusEvents[K]): void;
  on<K extends Topic>(topic: K, listener: (payload: BusEvents[K]) => void): () => void;
  /**
   * Resolves with what `read` returns once it is not `undefined`. `read` runs at once, then again
   * after notices on `topic` that `match` (several during one read make one more read). Resolves
   * `undefined` at the deadline or when the signal aborts.
   */
  watch<K extends Topic, T>(
    topic: K,
    match: (payload: BusEvents[K]) => boolean,
    read: () => Promise<T | undefined>,
    options?: WatchOptions,
  ): Promise<T | undefined>;
}

export class Bus implements NoticeBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit<K extends Topic>(topic: K, payload: BusEvents[K]): void {
    this.emitter.emit(topic, payload);
  }

  on<K extends Topic>(topic: K, listener: (payload: BusEvents[K]) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }

  watch<K extends Topic, T>(
    topic: K,
    match: (payload: BusEvents[K]) => boolean,
    read: () => Promise<T | undefined>,
    options?: WatchOptions,
  ): Promise<T | undefined> {
    return watchOn(this, topic, match, read, options);
  }
}

/**
 * `watch` over any bus's `on`. It subscribes before the first read, so a change committed while
 * that read runs still wakes it: no wake-up is lost between a read and the wait after it. It
 * sleeps between notices (no polling) and reads once per burst of them.
 */
export async function watchOn<K extends Topic, T>(
  bus: Pick<NoticeBus, 'on'>,
  topic: K,
  match: (payload: BusEvents[K]) => boolean,
  read: () => Promise<T | undefined>,
  { deadline, signal }: WatchOptions = {},
): Promise<T | undefined> {
  if (signal?.aborted) return undefined;
  let dirty = true;
  let wake: (() => void) | undefined;
  const off = bus.on(topic, (payload) => {
    if (!match(payload)) return;
    dirty = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      // Checked before every read: a read may take something (an inbox claims its mail).
      if (signal?.aborted) return undefined;
      if (dirty) {
        dirty = false;
        const value = await read();
        if (value !== undefined) return value;
        continue;
      }
      const left = deadline === undefined ? Infinity : deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        // setTimeout takes at most 2^31-1 ms; a longer wait just wakes to look at the clock again.
        const timer = Number.isFinite(left) ? setTimeout(resolve, Math.min(left, maxTimerMs)) : undefined;
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    off();
    signal?.removeEventListener('abort', onAbort);
  }
}
