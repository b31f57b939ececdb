/**
 * A test playing a gateway on the hub's WebSocket (`/v1/gateway/ws`): it sends frames and awaits
 * the hub's by type. Every frame from the hub must match the protocol schema.
 */
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import {
  hubFrameSchema,
  type GatewayFrame,
  type HubFrame,
  type HubFrameOf,
} from '../../protocol/src/index.ts';

type FrameType = HubFrame['t'];

/** Every fake gateway a test opened, closed after it. */
const opened: FakeGateway[] = [];

interface Waiter {
  matches: (frame: HubFrame) => boolean;
  resolve: (frame: HubFrame) => void;
  reject: (error: Error) => void;
}

/** A WebSocket client that queues the hub's frames so a test can await them by type. */
export class FakeGateway {
  /** Frames received and not yet taken by `next`. */
  private readonly queue: HubFrame[] = [];
  private readonly waiters: Waiter[] = [];
  /** Frames from the hub that do not match the protocol schema. */
  readonly invalid: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.receive(String(data)));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`socket closed (${code})`));
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static open(hubUrl: string): Promise<FakeGateway> {
    const ws = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}/v1/gateway/ws`);
    const gateway = new FakeGateway(ws);
    opened.push(gateway);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(gateway));
      ws.once('error', reject);
    });
  }

  /** Sends a frame, or any text as is (for frames that are meant to be wrong). */
  send(frame: GatewayFrame | string | Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /**
   * The next frame of a type (and, when given, one that `where` accepts): one already queued, or
   * the next to arrive within the timeout.
   */
  next<T extends FrameType>(
    type: T,
    where: (frame: HubFrameOf<T>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<HubFrameOf<T>> {
    const matches = (frame: HubFrame) => frame.t === type && where(frame as HubFrameOf<T>);
    const index = this.queue.findIndex(matches);
    if (index >= 0) return Promise.resolve(this.queue.splice(index, 1)[0] as HubFrameOf<T>);
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        matches,
        resolve: (frame) => {
          settle();
          resolve(frame as HubFrameOf<T>);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        const queued = this.queue.map((frame) => frame.t).join(', ') || 'nothing';
        waiter.reject(new Error(`no matching '${type}' frame within ${timeoutMs}ms (queued: ${queued})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends a frame and awaits the hub's reply of the given type. */
  ask<T extends FrameType>(
    frame: GatewayFrame,
    reply: T,
    where?: (frame: HubFrameOf<T>) => boolean,
  ): Promise<HubFrameOf<T>> {
    const answer = this.next(reply, where);
    this.send(frame);
    return answer;
  }

  /** How many frames of a type are queued, untaken. */
  count(type: FrameType): number {
    return this.queue.filter((frame) => frame.t === type).length;
  }

  close(): Promise<unknown> {
    this.ws.close();
    return this.closed;
  }

  private receive(text: string): void {
    const parsed = hubFrameSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      this.invalid.push(text);
      return;
    }
    const frame = parsed.data;
    const waiter = this.waiters.find((candidate) => candidate.matches(frame));
    if (waiter) waiter.resolve(frame);
    else this.queue.push(frame);
  }
}

/** Closes every fake gateway opened since the last call; none may have had an invalid frame. */
export async function closeGateways(): Promise<void> {
  const gateways = opened.splice(0);
  await Promise.all(gateways.map((gateway) => gateway.close()));
  for (const gateway of gateways) expect(gateway.invalid).toEqual([]);
}
