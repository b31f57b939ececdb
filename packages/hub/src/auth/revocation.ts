/**
 * "End when my token is revoked": an open connection (SSE stream, inbox wait, gateway WebSocket)
 * watches the token it was authenticated with and ends once it is revoked, rotated out or expired;
 * one opened with a browser session also ends when that session is signed out or expires.
 * A revocation on any hub of the system arrives on the bus at once (PostgreSQL's through pg-bus.ts);
 * a re-read every `recheckMs`, of all open connections' tokens in one batch, and one at once after
 * a bus gap, catch what a notice missed (and expiry).
 */
import { GantryError } from '@gantry/protocol';
import type { Bus } from '../bus.ts';
import type { Store } from '../store/store.ts';
import type { TokenRow } from '../store/tokens.ts';
import type { Caller } from './authenticate.ts';
import { sessionAlive } from './web-session.ts';

export const recheckMs = 5_000;
/** setTimeout's limit: a later expiry is left to the periodic re-read. */
const maxTimerMs = 2 ** 31 - 1;

export interface Watched {
  store: Store;
  bus: Bus;
}

type TokenState = Pick<TokenRow, 'revoked_at' | 'expires_at'> | undefined;

/** What a watch needs of the caller of the connection it watches. */
type Watcher = Pick<Caller, 'tokenId' | 'sessionId' | 'tokenExpiresAt' | 'revocationsHeard'>;

/**
 * Every open connection's token, re-read together: one batched read per `recheckMs` for all the
 * connections of a hub (10,000 gateways are a few statements every 5 s, not 2,000 reads a second).
 */
class Rechecks {
  private readonly byToken = new Map<string, Set<(state: TokenState) => void>>();
  private timer: NodeJS.Timeout | undefined;
  /** Batched re-reads done (for tests: the cost does not grow with connections). */
  reads = 0;

  constructor(private readonly store: Store) {}

  add(tokenId: string, onState: (state: TokenState) => void): () => void {
    let set = this.byToken.get(tokenId);
    if (!set) this.byToken.set(tokenId, (set = new Set()));
    set.add(onState);
    if (!this.timer) {
      this.timer = setInterval(() => void this.recheck(), recheckMs);
      this.timer.unref();
    }
    return () => {
      set.delete(onState);
      if (set.size === 0 && this.byToken.get(tokenId) === set) this.byToken.delete(tokenId);
      if (this.byToken.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Re-reads every open connection's token now (also the periodic re-read). */
  async recheck(): Promise<void> {
    const ids = [...this.byToken.keys()];
    if (ids.length === 0) return;
    this.reads += 1;
    const rows = await this.store.tokens.states(ids).catch(() => undefined);
    if (!rows) return; // the store did not answer: try again next time, end nothing
    const found = new Map(rows.map((r) => [r.id, r]));
    for (const id of ids) for (const onState of [...(this.byToken.get(id) ?? [])]) onState(found.get(id));
  }
}

const rechecksOf = new WeakMap<Store, Rechecks>();

/**
 * How many revocations and sign-outs this hub has heard of on its bus, bus gaps (which may have
 * hidden one) included. A request authenticated while the count was N, whose long-poll starts
 * watching while it is still N, has nothing to read again: its token's row was current.
 */
class Heard {
  count = 0;
  constructor(bus: Bus) {
    const heard = () => void (this.count += 1);
    bus.on('revoked', heard);
    bus.on('sessionEnded', heard);
    bus.onGap(heard);
  }
}

const heardOf = new WeakMap<Bus, Heard>();

export function revocationsHeardOn(bus: Bus): number {
  let heard = heardOf.get(bus);
  if (!heard) heardOf.set(bus, (heard = new Heard(bus)));
  return heard.count;
}

/** The hub's shared re-check of open connections' tokens (one per store). */
export function rechecks(store: Store): Rechecks {
  let shared = rechecksOf.get(store);
  if (!shared) rechecksOf.set(store, (shared = new Rechecks(store)));
  return shared;
}

/**
 * Calls `onEnd` once with the reason when the caller's token stops being valid. Returns a
 * function that stops watching (call it when the connection ends for any other reason).
 */
export function watchToken(deps: Watched, caller: Watcher, onEnd: (reason: string) => void): () => void {
  let stopped = false;
  let expiryTimer: NodeJS.Timeout | undefined;
  const end = (reason: string) => {
    if (stopped) return;
    stop();
    onEnd(reason);
  };
  const off = deps.bus.on('revoked', ({ tokenIds }) => {
    if (tokenIds.includes(caller.tokenId)) end('token revoked');
  });
  const offSession = deps.bus.on('sessionEnded', ({ sessionIds }) => {
    if (caller.sessionId && sessionIds.includes(caller.sessionId)) end('signed out');
  });
  const judge = async (row: TokenState) => {
    if (stopped) return;
    if (caller.sessionId && !(await sessionAlive(deps.store, caller.sessionId).catch(() => true)))
      return end('session ended');
    if (stopped) return;
    if (!row || row.revoked_at !== null) return end('token revoked');
    if (row.expires_at !== null) {
      const left = row.expires_at - Date.now();
      if (left <= 0) return end('token expired');
      clearTimeout(expiryTimer);
      if (left < maxTimerMs) expiryTimer = setTimeout(() => end('token expired'), left);
    }
  };
  const offRecheck = rechecks(deps.store).add(caller.tokenId, (row) => void judge(row));
  // The first read is this connection's own (the periodic ones are shared), unless the request was
  // authenticated just now with no revocation heard since: its row then still holds.
  if (
    caller.revocationsHeard !== undefined &&
    caller.tokenExpiresAt !== undefined &&
    caller.revocationsHeard === revocationsHeardOn(deps.bus)
  )
    void judge({ revoked_at: null, expires_at: caller.tokenExpiresAt });
  else void deps.store.tokens.get(caller.tokenId).then(judge, () => undefined);
  function stop() {
    stopped = true;
    off();
    offSession();
    offRecheck();
    clearTimeout(expiryTimer);
  }
  return stop;
}

/**
 * An AbortSignal for a long-poll: aborted when the request's own signal is, or when the caller's
 * token stops being valid (`revoked()` then says why). `done()` stops watching.
 */
export function revocationSignal(
  deps: Watched,
  caller: Watcher,
  request?: AbortSignal,
): { signal: AbortSignal; revoked: () => string | undefined; done: () => void } {
  const controller = new AbortController();
  let reason: string | undefined;
  const stop = watchToken(deps, caller, (why) => {
    reason = why;
    controller.abort();
  });
  // One signal for both, joined by hand: AbortSignal.any costs about 50 us a call (Node 20), once per wait.
  const onRequestAbort = () => controller.abort();
  if (request?.aborted) controller.abort();
  else request?.addEventListener('abort', onRequestAbort, { once: true });
  const done = () => {
    stop();
    request?.removeEventListener('abort', onRequestAbort);
  };
  return { signal: controller.signal, revoked: () => reason, done };
}

/** The last message of an SSE stream whose token was revoked: the error, as an error body. */
export function revokedEvent(reason: string): { event: string; data: string } {
  return { event: 'error', data: JSON.stringify(new GantryError('unauthorized', reason).toWire()) };
}

/**
 * Runs a long-poll with a signal that also aborts when the caller's token stops being valid; a
 * poll cut short that way answers 401 instead of its empty result.
 */
export async function untilRevoked<T>(
  deps: Watched,
  caller: Watcher,
  request: AbortSignal,
  poll: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const watch = revocationSignal(deps, caller, request);
  try {
    const result = await poll(watch.signal);
    const reason = watch.revoked();
    if (reason) throw new GantryError('unauthorized', reason);
    return result;
  } finally {
    watch.done();
  }
}
