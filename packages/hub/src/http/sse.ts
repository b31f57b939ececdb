/** What the SSE routes share: the keep-alive period and a stream's life as an AbortSignal. */
import type { SSEStreamingApi } from 'hono/streaming';
import type { Caller } from '../auth/authenticate.ts';
import { revocationSignal, type Watched } from '../auth/revocation.ts';

/** A comment this often keeps proxies from closing a quiet stream (the dashboard expects it). */
export const keepAliveMs = 15_000;

/**
 * Aborted when the client goes or the token the stream was opened with is revoked or expires
 * (`revoked()` then says why, for the stream's last message); `done()` stops watching.
 */
export function streamSignal(deps: Watched, who: Caller, stream: SSEStreamingApi) {
  const gone = new AbortController();
  stream.onAbort(() => gone.abort());
  return revocationSignal(deps, who, gone.signal);
}
