/**
 * Ends assignments that waited in the queue past its TTL (`expired`), and finds attempts whose
 * gateway has gone quiet. An offer that lapses goes back to the queue; an
 * attempt that may have started waits out the grace period for its gateway to come back, then is
 * lost: retried as a new attempt or failed `gateway_lost`. Nothing stays running forever.
 */
import type { Logger } from '@gantry/protocol';
import type { Assignments } from '../domain/assignments.ts';
import type { Store } from '../store/store.ts';
import type { DispatchSettings } from './settings.ts';

export class LeaseSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly store: Store,
    private readonly assignments: Assignments,
    private readonly settings: DispatchSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    const every = Math.max(50, Math.min(1000, Math.floor(this.settings.leaseMs / 4)));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sweep(now = Date.now()): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const row of await this.store.assignments.queuedBefore(now - this.settings.queueTtlMs)) {
        if (await this.assignments.expire(row, this.settings.queueTtlMs)) {
          this.log.info('assignment expired in the queue', { assignment: row.id });
        }
      }
      for (const row of await this.store.assignments.leaseExpired(now)) {
        if (row.state === 'offered') {
          // The revoke names the lapsed offer: if the attempt is offered to this gateway again, the
          // new offer is not touched by this revoke arriving late.
          const offer = row.offer_id ?? undefined;
          if (await this.assignments.requeue(row.id, row.attempt, undefined, offer, 'offer lapsed')) {
            this.log.warn('offer lapsed, requeued', { assignment: row.id, gateway: row.gateway_id });
          }
          continue;
        }
        if ((row.lease_expires_at ?? now) + this.settings.graceMs > now) continue;
        const silentS = Math.round((now - (row.lease_expires_at ?? now) + this.settings.leaseMs) / 1000);
        const reason = `no word from gateway ${row.gateway_id} for ${silentS}s`;
        const outcome = await this.assignments.lose(row, reason, 'lease expired');
        if (outcome !== 'moved') {
          this.log.warn('attempt lost with its gateway', {
            assignment: row.id,
            attempt: row.attempt,
            outcome,
          });
        }
      }
    } catch (err) {
      this.log.error('lease sweep failed', { error: (err as Error).message });
    } finally {
      this.sweeping = false;
    }
  }
}
