/**
 * The bus of several hubs on one PostgreSQL: the in-process bus, plus LISTEN/NOTIFY on one channel
 * over a dedicated connection, so a notice emitted on any hub reaches the listeners of every hub.
 * Listeners here hear a notice at once from `emit` (never a second time when it comes back from the
 * database: every message names the process that sent it). Notices of one tick are coalesced and
 * packed into as few NOTIFYs as fit PostgreSQL's 8000-byte payload; payloads stay ids. The
 * connection reconnects by itself; notices emitted meanwhile wait and go out then, and since other
 * hubs' notices may have been missed, every gap listener is told to re-read (`onGap`).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { GantryError, type Logger } from '@gantry/protocol';
import { Bus, topics, type BusEvents, type Topic } from './bus.ts';

/** The one channel every hub of a system (one database) listens on. */
export const busChannel = 'gantry_bus';
/** The listening connections' `application_name`. */
export const busApplication = 'gantry bus';
/** Bytes of one NOTIFY payload at most (PostgreSQL refuses 8000 and more). */
export const payloadLimit = 7_900;

const known = new Set<string>(topics);

export interface PgBusOptions {
  /** The store's postgres:// URL. */
  url: string;
  log: Logger;
  /** First wait before reconnecting (doubles up to `maxRetryMs`). */
  retryMs?: number;
  maxRetryMs?: number;
}

type Entry = [Topic, unknown];

export class PgBus extends Bus {
  /** This process (hubs of one system share a hubId, not this). */
  readonly node = randomBytes(8).toString('hex');
  private client: pg.Client | undefined;
  private pending = new Set<string>();
  private flushing: NodeJS.Immediate | undefined;
  /** A flush is sending: another waits for it (pg's client takes one query at a time). */
  private sending = false;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private connecting: Promise<void> | undefined;
  /** Connections made (the first one is not a gap; every later one is). */
  connects = 0;
  /** NOTIFY statements sent (for tests: coalescing and packing). */
  notifies = 0;

  constructor(private readonly options: PgBusOptions) {
    super();
  }

  /** Connects and listens; refuses with `unavailable` if the first connection fails. */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      throw new GantryError('unavailable', `cannot listen on PostgreSQL: ${(err as Error).message}`);
    }
  }

  override emit<K extends Topic>(topic: K, payload: BusEvents[K]): void {
    super.emit(topic, payload);
    if (this.closed) return;
    for (const entry of split([topic, payload])) {
      const text = JSON.stringify(entry);
      if (Buffer.byteLength(text) + 40 > payloadLimit) {
        this.options.log.error('bus notice too big for NOTIFY: not sent to other hubs', { topic });
        continue;
      }
      this.pending.add(text);
    }
    this.flushing ??= setImmediate(() => {
      this.flushing = undefined;
      void this.flush();
    });
  }

  /** Stops listening and ends the connection (notices not yet sent are dropped). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    if (this.flushing) clearImmediate(this.flushing);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /** The backend pid of the listening connection (for tests that cut it). */
  async listenerPid(): Promise<number | undefined> {
    const result = await this.client?.query<{ pid: number }>('select pg_backend_pid() as pid');
    return result?.rows[0]?.pid;
  }

  private connect(): Promise<void> {
    return (this.connecting ??= this.open().finally(() => (this.connecting = undefined)));
  }

  private async open(): Promise<void> {
    // Named, so an operator sees each hub's listening connection in pg_stat_activity.
    const client = new pg.Client({ connectionString: this.options.url, application_name: busApplication });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.options.log.warn('bus connection lost: reconnecting', { error: err?.message ?? 'ended' });
      this.reconnect(this.options.retryMs ?? 100);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === busChannel && message.payload) this.receive(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${busChannel}`);
    } catch (err) {
      lost = true;
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.connects += 1;
    if (this.connects > 1) {
      this.options.log.info('bus connection back: catching up');
      this.gap();
    }
    void this.flush();
  }

  private reconnect(waitMs: number): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.connect().catch((err: unknown) => {
        if (this.closed) return;
        this.options.log.warn('bus reconnect failed', { error: (err as Error).message });
        this.reconnect(Math.min(waitMs * 2, this.options.maxRetryMs ?? 2_000));
      });
    }, waitMs);
    this.retry.unref();
  }

  /**
   * Sends what is pending, packed, one NOTIFY after the other: what comes while one is on its way
   * goes out after it. What fails to go out waits for the next connection.
   */
  private async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.client && this.pending.size > 0) {
        const client = this.client;
        // Failed on a connection that is still the current one: its reconnect flushes again.
        if (!(await this.send(client)) && this.client === client) return;
      }
    } finally {
      this.sending = false;
    }
  }

  /** Sends what is pending now; false when the connection failed (the rest is pending again). */
  private async send(client: pg.Client): Promise<boolean> {
    const batches = pack(this.node, [...this.pending]);
    this.pending.clear();
    for (const [i, batch] of batches.entries()) {
      try {
        this.notifies += 1;
        await client.query('select pg_notify($1, $2)', [busChannel, batch.payload]);
      } catch {
        // The connection is going: this batch and the rest go out once it is back.
        for (const left of batches.slice(i)) for (const entry of left.entries) this.pending.add(entry);
        return false;
      }
    }
    return true;
  }

  private receive(payload: string): void {
    let message: { n?: unknown; e?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    if (message.n === this.node || !Array.isArray(message.e)) return;
    for (const entry of message.e as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !known.has(entry[0])) continue;
      if (typeof entry[1] !== 'object' || entry[1] === null) continue;
      // Delivered here only: a notice from another hub is not sent on again.
      super.emit(entry[0] as Topic, entry[1] as never);
    }
  }
}

/**
 * Groups serialized entries into NOTIFY payloads under the limit: `{"n":node,"e":[entry,…]}`.
 * Exported for tests.
 */
export function pack(node: string, entries: string[]): { payload: string; entries: string[] }[] {
  const head = `{"n":"${node}","e":[`;
  const batches: { payload: string; entries: string[] }[] = [];
  let current: string[] = [];
  let bytes = Buffer.byteLength(head) + 2;
  const close = () => {
    if (current.length > 0) batches.push({ payload: `${head}${current.join(',')}]}`, entries: current });
    current = [];
    bytes = Buffer.byteLength(head) + 2;
  };
  for (const entry of entries) {
    const size = Buffer.byteLength(entry) + 1;
    if (current.length > 0 && bytes + size > payloadLimit) close();
    current.push(entry);
    bytes += size;
  }
  close();
  return batches;
}

/**
 * An entry too big for one NOTIFY (a revocation of many tokens) is split along its list of ids.
 * Exported for tests.
 */
export function split(entry: Entry): Entry[] {
  const [topic, payload] = entry;
  if (Buffer.byteLength(JSON.stringify(entry)) + 40 <= payloadLimit) return [entry];
  const record = payload as Record<string, unknown>;
  const key = Object.keys(record).find(
    (k) => Array.isArray(record[k]) && (record[k] as unknown[]).length > 1,
  );
  if (!key) return [entry]; // ids only, so never this big (`emit` logs and keeps it local)
  const list = record[key] as unknown[];
  const half = Math.ceil(list.length / 2);
  return [
    ...split([topic, { ...record, [key]: list.slice(0, half) }]),
    ...split([topic, { ...record, [key]: list.slice(half) }]),
  ];
}
