/**
 * The hub's in-process bus. Domain code emits what changed; the dispatcher and SSE streams
 * subscribe. Payloads are ids, never data: subscribers re-read the store, so a missed or
 * coalesced notice costs nothing (the same rule a PostgreSQL LISTEN/NOTIFY bus will follow).
 * Every wait for something to appear in the store is `watch`, written once over `on`.
 */
import { EventEmitter } from 'node:events';
import type { HubFrameOf } from '@gantry/protocol';
import type { PresenceReport } from './domain/presence.ts';

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
  /**
   * A `cancel`, `revoke`, `permission` or `detach` for a gateway this hub has no socket to: the hub of the
   * system holding it sends the frame (ids and a reason only; gateway-port.ts).
   */
  gatewayFrame: { gatewayId: string; frame: RelayedFrame };
  /**
   * An `attach` or `rekey` (they carry an agent key) waits in the store for the hub holding this
   * gateway's socket: ids only, the frame never travels on the bus (domain/gateway-relay.ts).
   */
  relay: { id: string; gatewayId: string };
  /** A hub took that row: it sent the frame (`sent`), or the gateway had just left it. */
  relayed: { id: string; sent: boolean };
  /** A gateway's answer to an `attach` handed on from another hub, for the hub that asked. */
  attached: { gatewayId: string; requestId: string; ok: boolean; error?: string; workdir?: string };
  /** Inbox presence on one hub process (`node`) changed or is re-told (presence-sync.ts). */
  presence: { node: string; reports: PresenceReport[] };
}

export type Topic = keyof BusEvents;

/** The frames one hub asks another to hand to a gateway connected there. */
export type RelayedFrame =
  HubFrameOf<'cancel'> | HubFrameOf<'revoke'> | HubFrameOf<'permission'> | HubFrameOf<'detach'>;

/** Every topic, for a bus that receives notices from outside this process (pg-bus.ts). */
export const topics: readonly Topic[] = [
  'queued',
  'resumed',
  'assignment',
  'activity',
  'mailbox',
  'approval',
  'revoked',
  'sessionEnded',
  'gatewayFrame',
  'relay',
  'relayed',
  'attached',
  'presence',
];

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
  /**
   * Notices may have been lost (a database bus lost its connection and has it again): the listener
   * re-reads what it follows. The in-process bus never loses one, so never calls it.
   */
  onGap(listener: () => void): () => void;
}

const gapEvent = Symbol('gap');

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

  onGap(listener: () => void): () => void {
    this.emitter.on(gapEvent, listener);
    return () => this.emitter.off(gapEvent, listener);
  }

  /** Tells every gap listener that notices may have been lost. */
  protected gap(): void {
    this.emitter.emit(gapEvent);
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
  bus: Pick<NoticeBus, 'on'> & Partial<Pick<NoticeBus, 'onGap'>>,
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
  // After a gap every watch reads again: what it waits for may have come meanwhile.
  const offGap =
    bus.onGap?.(() => {
      dirty = true;
      wake?.();
    }) ?? (() => undefined);
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
    offGap();
    signal?.removeEventListener('abort', onAbort);
  }
}
