/**
 * `attach` and `rekey` for a gateway connected to another hub of the system (issue 15). They carry
 * an agent key, which must not travel in a NOTIFY payload (statement logging may record it): the
 * hub a request came to leaves the frame, sealed, in the store (`gateway_relay`), and the bus
 * carries only the row's id and the gateway's id (`relay`). The hub holding that gateway's socket
 * takes the row (one hub only), sends the frame and says so (`relayed`); after a bus gap it takes
 * what still waits for its gateways. Nobody taking it in time withdraws it: a row lives seconds.
 * The gateway's answer to an `attach` goes back to the asking hub on the bus (`attached`: no key).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hubFrameSchema, type GatewayFrameOf, type HubFrameOf, type Logger } from '@gantry/protocol';
import type { BusEvents, NoticeBus } from '../bus.ts';
import type { GatewayLink } from '../dispatch/links.ts';
import { newId } from '../ids.ts';
import type { Store } from '../store/store.ts';

export type KeyedFrame = HubFrameOf<'attach'> | HubFrameOf<'rekey'>;
export type AttachAnswer = BusEvents['attached'];

/** This hub's sockets, as the relay needs them. */
export interface RelayLocal {
  get(gatewayId: string): GatewayLink | undefined;
  serve(link: GatewayLink, agentId: string, name: string): void;
}

/** How long a handed-on frame waits for the gateway's hub (then the gateway counts as connected nowhere). */
export const relayTimeoutMs = 3_000;
/** How long this hub remembers an `attach` it handed on, for the gateway's answer. */
const answerWindowMs = 30_000;
/** A row outlives the writer's wait by this much, and expires by itself if the writer is gone. */
const expiryMarginMs = 2_000;
const keyMeta = 'gateway_relay_key';

export class GatewayRelay {
  private readonly offs: (() => void)[] = [];
  /** Frames this hub left, waiting for the `relayed` of the hub that took them. */
  private readonly waiters = new Map<string, (sent: boolean) => void>();
  /** Attaches this hub sent for another: request id -> gateway id, until answered. */
  private readonly handedOn = new Map<string, string>();
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly store: Store,
    private readonly bus: NoticeBus,
    private readonly local: RelayLocal,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.offs.push(
      this.bus.on('relay', ({ id, gatewayId }) => {
        if (this.local.get(gatewayId)) void this.take(id);
      }),
      this.bus.on('relayed', ({ id, sent }) => this.waiters.get(id)?.(sent)),
      // Notices may have been lost: what waits for a gateway connected here is taken now.
      this.bus.onGap(() => void this.catchUp()),
    );
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /**
   * Hands the frame to the hub holding the gateway's socket. Resolves true once that hub sent it,
   * false when none took it within `timeoutMs` (it is withdrawn then: the gateway never gets it).
   */
  async send(gatewayId: string, frame: KeyedFrame, timeoutMs = relayTimeoutMs): Promise<boolean> {
    const now = Date.now();
    const id = newId('rel', now);
    let timer: NodeJS.Timeout | undefined;
    const acked = new Promise<boolean | undefined>((resolve) => {
      this.waiters.set(id, resolve);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const sealed = await this.seal(id, gatewayId, JSON.stringify(frame));
      await this.store.gatewayRelay.put({
        id,
        gateway_id: gatewayId,
        frame: sealed,
        created_at: now,
        // Past the wait: the writer withdraws it first, so no hub takes it once the writer gave up.
        expires_at: now + timeoutMs + expiryMarginMs,
      });
      this.bus.emit('relay', { id, gatewayId });
      const sent = await acked;
      if (sent !== undefined) return sent;
      // No word in time (a hub's bus may be down): taken by now means sent, still there means not.
      return (await this.store.gatewayRelay.take(id, 0)) === undefined;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(id);
    }
  }

  /**
   * The gateway answered an `attach`: if this hub handed it on for another, that hub hears the
   * answer. False when it was no such attach.
   */
  answer(gatewayId: string, frame: GatewayFrameOf<'attached'>): boolean {
    if (this.handedOn.get(frame.requestId) !== gatewayId) return false;
    this.handedOn.delete(frame.requestId);
    this.bus.emit('attached', {
      gatewayId,
      requestId: frame.requestId,
      ok: frame.ok,
      ...(frame.error ? { error: frame.error.slice(0, 500) } : {}),
      ...(frame.workdir ? { workdir: frame.workdir } : {}),
    });
    return true;
  }

  /** Answers to attaches this hub asked another to hand on. */
  onAnswer(listener: (answer: AttachAnswer) => void): () => void {
    return this.bus.on('attached', listener);
  }

  /** Takes the row and sends its frame if the gateway is still connected here. */
  private async take(id: string): Promise<void> {
    try {
      const row = await this.store.gatewayRelay.take(id, Date.now());
      if (!row) return; // another hub took it, it was withdrawn, or it expired
      const link = this.local.get(row.gateway_id);
      const frame = link ? await this.open(row.id, row.gateway_id, row.frame) : undefined;
      this.bus.emit('relayed', { id, sent: link && frame ? this.deliver(link, frame) : false });
    } catch (err) {
      this.log.error('relayed frame not delivered', { id, error: (err as Error).message });
    }
  }

  /** Sends the frame; false for a key of an agent this connection does not serve (as on the asking hub). */
  private deliver(link: GatewayLink, frame: KeyedFrame): boolean {
    if (frame.t === 'rekey' && !link.agents.has(frame.agentId)) return false;
    if (frame.t === 'attach') {
      // Served here from now on, as on the hub that asked when the gateway is its own.
      this.local.serve(link, frame.agent.id, frame.agent.name);
      this.handedOn.set(frame.requestId, link.gatewayId);
      setTimeout(() => this.handedOn.delete(frame.requestId), answerWindowMs).unref();
    }
    link.send(frame);
    return true;
  }

  private async catchUp(): Promise<void> {
    try {
      const waiting = await this.store.gatewayRelay.waiting(Date.now());
      for (const row of waiting) if (this.local.get(row.gateway_id)) await this.take(row.id);
    } catch (err) {
      this.log.error('relay catch-up read failed', { error: (err as Error).message });
    }
  }

  /** AES-256-GCM under the system's relay key, bound to the row and its gateway. */
  private async seal(id: string, gatewayId: string, text: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.relayKey(), iv);
    cipher.setAAD(Buffer.from(`${id}\n${gatewayId}`));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  private async open(id: string, gatewayId: string, sealed: string): Promise<KeyedFrame | undefined> {
    try {
      const bytes = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', await this.relayKey(), bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${id}\n${gatewayId}`));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      const frame = hubFrameSchema.parse(JSON.parse(text));
      return frame.t === 'attach' || frame.t === 'rekey' ? frame : undefined;
    } catch (err) {
      this.log.error('relayed frame unreadable: dropped', { id, error: (err as Error).message });
      return undefined;
    }
  }

  /** The system's relay key: made once, shared by every hub of the store (a failed read is retried). */
  private relayKey(): Promise<Buffer> {
    this.key ??= this.store.meta
      .get(keyMeta)
      .then((existing) => existing ?? this.store.meta.setOnce(keyMeta, randomBytes(32).toString('base64url')))
      .then((text) => Buffer.from(text, 'base64url'));
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}
