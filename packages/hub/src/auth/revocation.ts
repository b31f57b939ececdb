/**
 * "End when my token is revoked": an open connection (SSE stream, inbox wait, gateway WebSocket)
 * watches the token it was authenticated with and ends once it is revoked, rotated out or expired;
 * one opened with a browser session also ends when that session is signed out or expires.
 * A revocation on this hub arrives on the bus at once; one made on another hub behind the same
 * database is seen by a re-read of the token every `recheckMs`.
 */
import { GantryError } from '@gantry/protocol';
import type { Bus } from '../bus.ts';
import type { Store } from '../store/store.ts';
import type { Caller } from './authenticate.ts';
import { sessionAlive } from './web-session.ts';

const recheckMs = 5_000;
/** setTimeout's limit: a later expiry is left to the periodic re-read. */
const maxTimerMs = 2 ** 31 - 1;

export interface Watched {
  store: Store;
  bus: Bus;
}

/**
 * Calls `onEnd` once with the reason when the caller's token stops being valid. Returns a
 * function that stops watching (call it when the connection ends for any other reason).
 */
export function watchToken(
  deps: Watched,
  caller: Pick<Caller, 'tokenId' | 'sessionId'>,
  onEnd: (reason: string) => void,
): () => void {
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
  const check = async () => {
    const row = await deps.store.tokens.get(caller.tokenId).catch(() => 'unknown' as const);
    if (stopped || row === 'unknown') return;
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
  const recheck = setInterval(() => void check(), recheckMs);
  recheck.unref();
  void check();
  function stop() {
    stopped = true;
    off();
    offSession();
    clearInterval(recheck);
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
  caller: Pick<Caller, 'tokenId' | 'sessionId'>,
  request?: AbortSignal,
): { signal: AbortSignal; revoked: () => string | undefined; done: () => void } {
  const controller = new AbortController();
  let reason: string | undefined;
  const stop = watchToken(deps, caller, (why) => {
    reason = why;
    controller.abort();
  });
  const signal = request ? AbortSignal.any([request, controller.signal]) : controller.signal;
  return { signal, revoked: () => reason, done: stop };
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
  caller: Pick<Caller, 'tokenId' | 'sessionId'>,
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
