/**
 * Any frame from a gateway is a sign of life: its held attempts' leases and its last-seen time
 * renew. Renewals are gathered and written together, a few times a second, in one transaction
 * (two statements per 500 gateways): 10,000 gateways' heartbeats cost a handful of writes a
 * second, not two per heartbeat.
 */
import type { Logger } from '@gantry/protocol';
import type { Store } from '../store/store.ts';
import type { DispatchSettings } from './settings.ts';

export class LeaseRenewals {
  private readonly heard = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly delayMs: number;

  constructor(
    private readonly store: Store,
    private readonly settings: DispatchSettings,
    private readonly log: Logger,
  ) {
    // Well inside a lease: a renewal written this much later still lands long before it runs out.
    this.delayMs = Math.max(1, Math.min(200, Math.floor(settings.leaseMs / 20)));
  }

  /** The gateway was heard from now: renewed with the next write. */
  renew(gatewayId: string): void {
    this.heard.add(gatewayId);
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Writes what was heard so far (also at shutdown, before the store closes). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = [...this.heard];
    this.heard.clear();
    if (ids.length === 0) return this.writing;
    const now = Date.now();
    this.writing = this.writing
      .then(() =>
        this.store.transaction(async (tx) => {
          await tx.assignments.renewLeases(ids, now + this.settings.leaseMs);
          await tx.gateways.seen(ids, now);
        }),
      )
      .catch((err: unknown) => this.log.error('lease renewal failed', { error: (err as Error).message }));
    return this.writing;
  }
}
