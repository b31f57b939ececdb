/**
 * The hub's in-process bus. Domain code emits what changed; the dispatcher and SSE streams
 * subscribe. Payloads are ids, never data: subscribers re-read the store, so a missed or
 * coalesced notice costs nothing (the same rule a PostgreSQL LISTEN/NOTIFY bus will follow).
 */
import { EventEmitter } from 'node:events';

export interface BusEvents {
  /** An assignment needs a gateway (created or requeued). */
  queued: { assignmentId: string; agentId: string };
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

export class Bus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit<K extends keyof BusEvents>(topic: K, payload: BusEvents[K]): void {
    this.emitter.emit(topic, payload);
  }

  on<K extends keyof BusEvents>(topic: K, listener: (payload: BusEvents[K]) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }
}
