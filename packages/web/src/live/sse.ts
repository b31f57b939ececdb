/**
 * Server-sent events over fetch: unlike EventSource it tells a 401 (session over) from a dropped
 * connection, and lets the caller own `Last-Event-ID` and the backoff. Runs in a tab or a worker.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseOptions {
  lastEventId?: string;
  signal: AbortSignal;
  onOpen?: () => void;
  onEvent: (event: EventSourceMessage) => void;
  /** Any bytes at all (keep-alive comments too): the connection is alive. */
  onActivity?: () => void;
}

/** Why a stream could not be opened: the HTTP status the hub answered with. */
export class SseRefused extends Error {
  constructor(readonly status: number) {
    super(`the event stream was refused (${status})`);
  }
}

/** Reads one stream until it ends (resolves) or fails (rejects); reconnecting is the caller's job. */
export async function readSse(url: string, options: SseOptions): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const response = await fetch(url, { headers, credentials: 'same-origin', signal: options.signal });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new SseRefused(response.status);
  }
  options.onOpen?.();
  const parser = createParser({ onEvent: options.onEvent });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      options.onActivity?.();
      parser.feed(value);
    }
  } finally {
    reader.releaseLock();
  }
}
