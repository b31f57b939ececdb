/**
 * The gateway's one outbound WebSocket to the hub. Reconnects with jittered exponential backoff
 * (1 s doubling to 30 s), each time to the next URL of the hub system (`--hub URL1,URL2`: hubs on
 * one store, so another takes over when the one it was connected to dies); on every connect it says
 * hello (listing the attempts it holds, whose leases the hub renews), then replays the outbox from
 * the start (the hub keeps each event once, by assignment, attempt and seq). With several URLs, a
 * hub that answers none of two pings in a row (a heartbeat apart) is left for the next URL. Before
 * it sends a credential to a URL it asks that URL's `/v1/health` for its `hubId`: a URL that now
 * answers as another hub system (a hub of another store started on that address, a typo'd proxy)
 * is skipped like a dead hub, never sent a token, and never ends the gateway's tries.
 * What it sends once connected goes through `OutboxSender`.
 */
import WebSocket from 'ws';
import {
  hubFrameSchema,
  maxFrameBytes,
  type GatewayFrame,
  type HubFrame,
  type Logger,
} from '@gantry/protocol';
import { OutboxSender } from './outbox-sender.ts';
import type { GatewayDb } from './state/gateway-db.ts';

/**
 * A client masks what it sends (RFC 6455) so that a browser page cannot make a proxy on the way
 * read its bytes as HTTP and poison a cache: every byte XORed once here and once at the hub, for
 * run output most of the gateway's traffic. Where no proxy can read the bytes (TLS, or a hub on
 * this machine's loopback), the mask is all zeros, which ws skips on both ends.
 */
function unreadOnTheWay(url: URL): boolean {
  return url.protocol === 'wss:' || ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
}
const zeroMask = (mask: Buffer): void => void mask.fill(0);

export interface HubConnectionOptions {
  /** Every URL of the hub system, read at each connect (a running `gateway connect` may add some). */
  urls: () => string[];
  db: GatewayDb;
  log: Logger;
  /** The hub system these URLs are of (its `hubId`, saved at connect); unknown for a hub too old to say. */
  hubId?: () => string | undefined;
  /** The credential for the next hello (the gateway's access token), fetched from the URL it connects to. */
  credential?: (url: string) => Promise<string>;
  /** The hello to answer the hub's `welcome` with, its nonce signed by the device key. */
  hello: (nonce: string) => Extract<GatewayFrame, { t: 'hello' }>;
  /** The hub holds the hello until a person approves this device; `onReady` follows if they do. */
  onPending: (frame: Extract<HubFrame, { t: 'pending' }>) => void;
  onFrame: (frame: HubFrame) => void;
  onReady: (frame: Extract<HubFrame, { t: 'hello_ok' }>) => void;
  /** Any sign of the hub (a frame, ping or pong), told before the frame is handled. */
  onContact?: () => void;
  onDown: () => void;
  /** Pings closer together than this count as one (default 2 s). */
  pingGapMs?: number;
  /** A fatal refusal (bad token): stop retrying and report. */
  onRefused: (message: string) => void;
}

export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(base / 2 + random() * (base / 2));
}

export class HubConnection {
  private ws: WebSocket | undefined;
  private readonly outbox: OutboxSender;
  private ready = false;
  private stopped = false;
  /** The access token the current connection says hello with (undefined: the hello's own). */
  private helloToken: string | undefined;
  private failures = 0;
  /** The hub's last `error` frame on this connection: a refusal's full reason. */
  private lastError: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Which of the system's URLs the current (or next) connection goes to. */
  private urlIndex = 0;
  private currentUrl: string | undefined;
  /** Pings on this connection, and the signs of the hub since (a hung hub answers none). */
  private lastPingAt = 0;
  private lastContactAt = 0;
  private unanswered = 0;
  /** Counts `open()`s: a connect still checking or fetching its token when another began is dropped. */
  private opening = 0;
  /** Why each URL skipped last time was not of this hub system, so the log says it once. */
  private readonly otherSystems = new Map<string, string>();

  constructor(private readonly options: HubConnectionOptions) {
    this.outbox = new OutboxSender(options.db);
  }

  get connected(): boolean {
    return this.ready;
  }

  /** The URL this connection is connected to (undefined while it is not). */
  get connectedUrl(): string | undefined {
    return this.ready ? this.currentUrl : undefined;
  }

  /** The URL the next connection goes to: the system's URLs in turn. */
  private nextUrl(): string {
    const urls = this.options.urls();
    const url = urls[this.urlIndex % urls.length];
    if (url === undefined) throw new Error('a hub session has at least one URL');
    return url;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.outbox.stop();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'gateway stopping');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  /** Says hello again (the agents served changed): this connection closes and the next opens at once. */
  reconnect(): void {
    if (this.stopped) return;
    this.failures = 0;
    if (this.ws) return this.ws.close(1000, 'agents changed');
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Sends a frame now if connected; frames that must not be lost go through the outbox instead. */
  send(frame: GatewayFrame): boolean {
    return this.outbox.send(JSON.stringify(frame));
  }

  /** A WebSocket ping: the hub's pong tells the gateway it is still in contact. */
  ping(): void {
    const ws = this.ws;
    if (!this.ready || ws?.readyState !== WebSocket.OPEN) return;
    // A ping sent a moment ago is still on its way (reports come in bursts): it stands for this one.
    if (Date.now() - this.lastPingAt < (this.options.pingGapMs ?? 2000)) return;
    // Not a sign of the hub since the ping before: one more unanswered. A hub silent for two pings
    // in a row is hung (stopped, its machine gone) while another hub of the system may answer.
    this.unanswered = this.lastContactAt < this.lastPingAt ? this.unanswered + 1 : 0;
    if (this.unanswered >= 2 && this.options.urls().length > 1) {
      this.options.log.warn('the hub does not answer: trying another URL of the system', {
        url: this.currentUrl,
      });
      ws.terminate();
      return;
    }
    this.lastPingAt = Date.now();
    ws.ping();
  }

  /** Any sign of the hub on this connection. */
  private contact(): void {
    this.lastContactAt = Date.now();
    this.options.onContact?.();
  }

  /** A row just written to the outbox, for sending at once when it can be (`OutboxSender.deliver`). */
  deliver(id: number, frame: string): void {
    this.outbox.deliver(id, frame);
  }

  /** Sends outbox rows not yet sent on this connection. */
  pump(): void {
    this.outbox.pump();
  }

  private open(): void {
    const serverUrl = this.nextUrl();
    const opening = ++this.opening;
    const current = () => !this.stopped && opening === this.opening;
    void (async () => {
      const other = await this.otherSystem(serverUrl);
      if (!current()) return;
      if (other) return this.skip(serverUrl, other);
      this.otherSystems.delete(serverUrl);
      const token = this.options.credential ? await this.options.credential(serverUrl) : undefined;
      if (current()) this.connect(serverUrl, token);
    })();
  }

  /**
   * Why `url` is not of this gateway's hub system (undefined: it is, or cannot tell). A hub that
   * does not answer is left to the connect, which fails and moves on without sending anything.
   */
  private async otherSystem(url: string): Promise<string | undefined> {
    const expected = this.options.hubId?.();
    if (!expected) return undefined;
    let response: Response;
    try {
      response = await fetch(new URL('/v1/health', url), { signal: AbortSignal.timeout(5000) });
    } catch {
      return undefined;
    }
    // A proxy's 502 while its hub is down: the connect says what is wrong.
    if (!response.ok) return undefined;
    const body = (await response.json().catch(() => undefined)) as { hubId?: unknown } | undefined;
    if (body?.hubId === expected) return undefined;
    return typeof body?.hubId === 'string'
      ? `${url} answers as hub system ${body.hubId}, not ${expected} (this gateway's)`
      : `${url} does not answer as a Gantry hub (its /v1/health names no hubId; this gateway's hub system is ${expected})`;
  }

  /** A URL of another hub system: not connected to (no token sent), and the next URL tried as after a failure. */
  private skip(url: string, reason: string): void {
    if (this.otherSystems.get(url) !== reason)
      this.options.log.warn('not connecting to a URL of another hub system', { url, reason });
    this.otherSystems.set(url, reason);
    this.retry(url, 'skipped a URL of another hub system; retrying', {});
  }

  /** The next try, after the backoff, to the next URL of the system (the same one when there is only one). */
  private retry(
    url: string,
    message: string,
    fields: Record<string, unknown>,
    level: 'info' | 'warn' = 'info',
  ): void {
    const delay = backoffMs(this.failures++);
    this.urlIndex = (this.urlIndex + 1) % Math.max(1, this.options.urls().length);
    this.options.log[level](message, {
      ...fields,
      url,
      next: this.nextUrl(),
      retryInMs: delay,
    });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private connect(serverUrl: string, token: string | undefined): void {
    this.helloToken = token;
    this.currentUrl = serverUrl;
    const url = new URL('/v1/gateway/ws', serverUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, {
      maxPayload: maxFrameBytes,
      handshakeTimeout: 10_000,
      // The hub compresses nothing (it costs more CPU than loopback or a LAN saves): offer none.
      perMessageDeflate: false,
      ...(unreadOnTheWay(url) ? { generateMask: zeroMask } : {}),
    });
    this.ws = ws;
    this.lastError = undefined;
    ws.on('message', (data) => this.receive(String(data)));
    this.unanswered = 0;
    this.lastPingAt = 0;
    ws.on('pong', () => this.contact());
    ws.on('ping', () => this.contact());
    let socketError: string | undefined;
    ws.on('error', (err) => {
      socketError = err.message;
      this.options.log.debug('hub socket error', { error: err.message });
    });
    ws.on('close', (code, reason) => {
      const wasReady = this.ready;
      this.ready = false;
      this.ws = undefined;
      this.outbox.detach();
      if (wasReady) this.options.onDown();
      if (this.stopped) return;
      if (code === 4003) {
        this.options.onRefused(this.lastError ?? (reason.toString() || 'the hub refused this gateway'));
        return;
      }
      // A connect that failed (refused, no such host, a timeout) is a warning, so `gateway status`
      // says why it is not connected; a connection that was up and closed is the usual failover.
      if (!wasReady && socketError)
        return this.retry(
          serverUrl,
          'cannot connect to the hub; retrying',
          { code, error: socketError },
          'warn',
        );
      this.retry(serverUrl, 'hub connection closed; retrying', { code });
    });
  }

  private receive(text: string): void {
    this.contact();
    let frame: HubFrame;
    try {
      frame = hubFrameSchema.parse(JSON.parse(text));
    } catch (err) {
      this.options.log.warn('ignored an invalid frame from the hub', { error: (err as Error).message });
      return;
    }
    if (frame.t === 'welcome') {
      const hello = this.options.hello(frame.nonce);
      this.ws?.send(JSON.stringify(this.helloToken ? { ...hello, token: this.helloToken } : hello));
      return;
    }
    if (frame.t === 'pending') return this.options.onPending(frame);
    if (frame.t === 'error') this.lastError = frame.message;
    if (frame.t === 'hello_ok') {
      this.ready = true;
      this.failures = 0;
      if (this.ws) this.outbox.attach(this.ws);
      this.options.onReady(frame);
      this.outbox.pump();
      return;
    }
    this.options.onFrame(frame);
  }
}
