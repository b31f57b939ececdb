/**
 * Matches queued assignments to connected gateways with free capacity. A pass offers each
 * gateway at most what it has room for; passes never overlap, and a kick during a pass runs one
 * more pass after it, so no notice is lost and none piles up. What a gateway says of its slots
 * (a heartbeat, a reject, a result) comes here too, with the rules that go with it.
 */
import type { AssignmentMode, HeartbeatFrame, Logger, ResumeFallback } from '@gantry/protocol';
import type { Assignments } from '../domain/assignments.ts';
import type { Store } from '../store/store.ts';
import type { GatewayLink, Links } from './links.ts';
import type { DispatchSettings } from './settings.ts';

/** How long an assignment a gateway rejected is not offered to that gateway again. */
export const rejectCooldownMs = 5_000;

export class Dispatcher {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: Store,
    private readonly assignments: Assignments,
    private readonly links: Links,
    private readonly settings: DispatchSettings,
    private readonly log: Logger,
  ) {}

  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** A gateway's report of its free slots; only agents this connection serves count. */
  reported(link: GatewayLink, frame: Pick<HeartbeatFrame, 'slots' | 'agents' | 'seenOffers'>): void {
    link.capacity.report({ ...frame, agents: frame.agents.filter((a) => link.agents.has(a.agentId)) });
    this.kick();
  }

  /** A gateway turned an offer down: its slot is free, and it is not offered that assignment for a while. */
  rejected(link: GatewayLink, assignmentId: string, agentId: string): void {
    link.rejected.set(assignmentId, Date.now() + rejectCooldownMs);
    link.capacity.released(agentId);
    this.kick();
  }

  /** An attempt a gateway held has ended: its slot is free. */
  finished(link: GatewayLink, agentId: string): void {
    link.capacity.released(agentId);
    this.kick();
  }

  /** Resolves when no pass is running (for shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (err) {
        this.log.error('dispatch pass failed', { error: (err as Error).message });
      }
    } while (this.again);
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    for (const link of this.links.all()) {
      for (const [id, until] of link.rejected) if (until <= now) link.rejected.delete(id);
      const free = link.capacity.free();
      if (free.total === 0 || free.agents.size === 0) continue;
      const candidates = await this.store.assignments.queuedFor(
        [...free.agents.keys()],
        free.total + link.rejected.size,
      );
      let total = free.total;
      for (const row of candidates) {
        if (total === 0) break;
        if (link.rejected.has(row.id) || (free.agents.get(row.agent_id) ?? 0) <= 0) continue;
        const offerId = await this.assignments.offer(row, link.gatewayId, Date.now() + this.settings.leaseMs);
        if (!offerId) continue;
        if (this.links.get(link.gatewayId) !== link) {
          // The gateway went away while we offered: the offer goes back to the queue.
          await this.assignments.requeue(row.id, row.attempt, link.gatewayId, offerId);
          break;
        }
        const n = link.capacity.offered(row.agent_id);
        total -= 1;
        free.agents.set(row.agent_id, (free.agents.get(row.agent_id) ?? 0) - 1);
        link.send({
          t: 'offer',
          n,
          offerId,
          assignment: {
            id: row.id,
            attempt: row.attempt,
            agentId: row.agent_id,
            agentName: link.agents.get(row.agent_id) ?? row.agent_id,
            prompt: row.prompt,
            sessionKey: row.session_key,
            mode: row.mode as AssignmentMode,
            resumeFallback: row.resume_fallback as ResumeFallback,
            timeoutMs: row.timeout_ms,
          },
        });
        this.log.debug('offered', {
          assignment: row.id,
          attempt: row.attempt,
          offer: offerId,
          gateway: link.gatewayId,
        });
      }
    }
  }
}
