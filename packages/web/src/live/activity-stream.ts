/**
 * The one connection to the workspace's activity stream (`GET /v1/events`): resumes by
 * `Last-Event-ID` after any drop, so nothing is missed or repeated; backs off (1 s doubling to
 * 30 s, jittered); notices a dead connection by the hub's keep-alives going quiet; stops for good
 * when the session is over (401), until told to start again. Runs in the SharedWorker or in the
 * leader tab; tabs get what it reads as messages.
 */
import type { ActivityEvent } from '@gantry/protocol';
import { readSse, SseRefused } from './sse.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'signed-out';

export interface StreamListener {
  status(status: LiveStatus): void;
  /** The stream (re)started at `id`; `resumed` when it carried on from where the last one stopped. */
  ready(id: number, resumed: boolean): void;
  entries(entries: ActivityEvent[]): void;
}

/** The hub sends a keep-alive every 15 s: two missed ones mean the connection is gone. */
const silenceMs = 40_000;
const minBackoffMs = 1_000;
const maxBackoffMs = 30_000;

export class ActivityStream {
  lastEventId: number | undefined;
  status: LiveStatus = 'connecting';
  private controller: AbortController | undefined;
  private running = false;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly listener: StreamListener,
    private readonly url = '/v1/events',
  ) {}

  /** Starts (or restarts after sign-in); a no-op while running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.controller?.abort();
    this.wakeUp?.();
  }

  /** Skip the rest of a backoff wait (the network came back, a tab became visible). */
  retryNow(): void {
    this.wakeUp?.();
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.listener.status(status);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const controller = new AbortController();
      this.controller = controller;
      let watchdog: ReturnType<typeof setTimeout> | undefined;
      const alive = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), silenceMs);
      };
      const resuming = this.lastEventId !== undefined;
      let batch: ActivityEvent[] = [];
      try {
        await readSse(this.url, {
          lastEventId: this.lastEventId === undefined ? undefined : String(this.lastEventId),
          signal: controller.signal,
          onOpen: alive,
          onActivity: alive,
          onEvent: (event) => {
            if (event.event === 'ready') {
              failures = 0;
              this.lastEventId = Number(event.id);
              this.setStatus('live');
              this.listener.ready(this.lastEventId, resuming);
            } else if (event.event === 'activity') {
              const entry = JSON.parse(event.data) as ActivityEvent;
              this.lastEventId = entry.id;
              batch.push(entry);
              // Entries of one network chunk go out together, once the chunk is parsed.
              if (batch.length === 1)
                queueMicrotask(() => {
                  const out = batch;
                  batch = [];
                  this.listener.entries(out);
                });
            } else if (event.event === 'revoked') {
              this.running = false;
            }
          },
        });
      } catch (err) {
        if (err instanceof SseRefused && (err.status === 401 || err.status === 403)) this.running = false;
      } finally {
        clearTimeout(watchdog);
      }
      if (!this.running) {
        this.setStatus('signed-out');
        return;
      }
      this.setStatus('reconnecting');
      failures += 1;
      const backoff = Math.min(maxBackoffMs, minBackoffMs * 2 ** (failures - 1));
      await this.sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
