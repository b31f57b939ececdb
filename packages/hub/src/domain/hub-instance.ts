/**
 * This hub process as one instance of the system (issue 15): an id made at start, a row in
 * `hub_instances` renewed every half heartbeat and counted alive for three renewals, so the
 * gateways whose sockets it holds read connected on every hub of the system, and stop reading so
 * within seconds of it being killed. A clean stop removes the row and clears its gateways. Each
 * renewal also clears the gateways of instances that died; one that finds its own row gone (it was
 * taken for dead, e.g. stopped by SIGSTOP) writes it again and claims back the sockets it holds.
 */
import type { Logger } from '@gantry/protocol';
import type { Links } from '../dispatch/links.ts';
import type { DispatchSettings } from '../dispatch/settings.ts';
import { newId } from '../ids.ts';
import type { Store } from '../store/store.ts';

/** Renewal period and life of an instance row for these settings. */
export function instanceTiming(settings: Pick<DispatchSettings, 'heartbeatMs'>) {
  const renewMs = Math.max(250, Math.floor(settings.heartbeatMs / 2));
  return { renewMs, lifeMs: 3 * renewMs };
}

export class HubInstance {
  readonly id = newId('hubi');
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private readonly timing: { renewMs: number; lifeMs: number };

  constructor(
    private readonly store: Store,
    private readonly links: Links,
    settings: Pick<DispatchSettings, 'heartbeatMs'>,
    private readonly log: Logger,
  ) {
    this.timing = instanceTiming(settings);
  }

  /** Registers this instance, then clears gateways held by no living instance (not other hubs'). */
  async start(): Promise<void> {
    const now = Date.now();
    await this.store.hubInstances.register(this.id, now, now + this.timing.lifeMs);
    const cleared = await this.store.hubInstances.sweep(now, true);
    if (cleared > 0) this.log.info('gateways of stopped hubs marked disconnected', { gateways: cleared });
    this.timer = setInterval(() => {
      this.renewing = this.renewing.then(() => this.renew());
    }, this.timing.renewMs);
    this.timer.unref();
  }

  /** After the sockets closed: the row goes, and any gateway still marked held here is cleared. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    await this.store.hubInstances.remove(this.id, Date.now());
  }

  private async renew(): Promise<void> {
    try {
      const now = Date.now();
      if (!(await this.store.hubInstances.renew(this.id, now, now + this.timing.lifeMs))) {
        this.log.warn('this hub was taken for stopped: claiming back its gateways');
        await this.store.gateways.reclaim(
          this.links.all().map((l) => l.gatewayId),
          this.id,
        );
      }
      await this.store.hubInstances.sweep(now);
    } catch (err) {
      this.log.error('hub instance renewal failed', { error: (err as Error).message });
    }
  }
}
