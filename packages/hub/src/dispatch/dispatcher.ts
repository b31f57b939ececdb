/**
 * Matches queued assignments to connected gateways with free capacity, at a cost that follows the
 * work, not the number of gateways. It remembers which agents have queued work (`waiting`); a pass
 * visits only the gateways that serve such an agent and were woken: by work queued for the agent
 * (or the agent resumed), or by capacity freed on the gateway (a hello, a reject, a result, a
 * heartbeat with room). A heartbeat of a gateway whose agents have nothing queued costs nothing
 * here. A catch-up read of the agents with queued work, once per interval, bounds how long a
 * missed wake-up (work queued through another hub) can wait. Passes never overlap, and a wake-up
 * during a pass runs one more pass after it, so no notice is lost and none piles up.
 */
import type { AssignmentMode, HeartbeatFrame, Logger, ResumeFallback } from '@gantry/protocol';
import type { Assignments } from '../domain/assignments.ts';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { GatewayLink, Links } from './links.ts';
import type { DispatchSettings } from './settings.ts';

/** How long an assignment a gateway rejected is not offered to that gateway again. */
export const rejectCooldownMs = 5_000;

export class Dispatcher {
  private running: Promise<void> | undefined;
  private again = false;
  /** Agents known to have queued work that is not paused (a query that finds none removes one). */
  private readonly waiting = new Set<string>();
  /** Woken since the last pass: agents whose work was queued, gateways whose capacity freed up. */
  private readonly wokenAgents = new Set<string>();
  private readonly wokenLinks = new Set<GatewayLink>();
  private catchUp: NodeJS.Timeout | undefined;
  /** Store queries the passes ran (for tests and benchmarks: what a wake-up cost). */
  queries = 0;

  constructor(
    private readonly store: Store,
    private readonly assignments: Assignments,
    private readonly links: Links,
    private readonly settings: DispatchSettings,
    private readonly log: Logger,
  ) {}

  /** Reads which agents have queued work now, and again every heartbeat interval. */
  start(): void {
    void this.catchUpRead();
    this.catchUp = setInterval(() => void this.catchUpRead(), this.settings.heartbeatMs);
    this.catchUp.unref();
  }

  stop(): void {
    clearInterval(this.catchUp);
  }

  /** Work was queued for the agent (created, requeued, or the agent resumed). */
  queued(agentId: string): void {
    this.wokenAgents.add(agentId);
    this.kick();
  }

  /** A gateway's report of its free slots; only agents this connection serves count. */
  reported(link: GatewayLink, frame: Pick<HeartbeatFrame, 'slots' | 'agents' | 'seenOffers'>): void {
    link.capacity.report({ ...frame, agents: frame.agents.filter((a) => link.agents.has(a.agentId)) });
    if (this.hasRoomForWaiting(link)) this.wake(link);
  }

  /** A gateway turned an offer down: its slot is free, and it is not offered that assignment for a while. */
  rejected(link: GatewayLink, assignmentId: string, agentId: string): void {
    link.rejected.set(assignmentId, Date.now() + rejectCooldownMs);
    link.capacity.released(agentId);
    this.wake(link);
    // Once the cooldown is over the assignment may go to this gateway again: look then.
    setTimeout(() => this.wake(link), rejectCooldownMs + 1).unref();
  }

  /** An attempt a gateway held has ended: its slot is free. */
  finished(link: GatewayLink, agentId: string): void {
    link.capacity.released(agentId);
    this.wake(link);
  }

  /** Resolves when no pass is running (for shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The gateway may have room it had not (it said hello): the next pass looks at it. */
  wake(link: GatewayLink): void {
    this.wokenLinks.add(link);
    this.kick();
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private hasRoomForWaiting(link: GatewayLink): boolean {
    const free = link.capacity.free();
    if (free.total === 0) return false;
    for (const agentId of free.agents.keys()) if (this.waiting.has(agentId)) return true;
    return false;
  }

  private async catchUpRead(): Promise<void> {
    try {
      for (const agentId of await this.store.assignments.queuedAgents()) this.wokenAgents.add(agentId);
      this.kick();
    } catch (err) {
      this.log.error('dispatch catch-up read failed', { error: (err as Error).message });
    }
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
    const visit = new Set(this.wokenLinks);
    this.wokenLinks.clear();
    for (const agentId of this.wokenAgents) {
      // Added here, not when notified: a pass that found the queue empty just before this notice
      // may have removed the agent after it came.
      this.waiting.add(agentId);
      for (const link of this.links.serving(agentId)) visit.add(link);
    }
    this.wokenAgents.clear();
    const now = Date.now();
    for (const link of visit) {
      if (this.links.get(link.gatewayId) !== link) continue;
      for (const [id, until] of link.rejected) if (until <= now) link.rejected.delete(id);
      await this.serve(link);
    }
  }

  /** Offers one gateway what it has room for, oldest first, from the agents with queued work. */
  private async serve(link: GatewayLink): Promise<void> {
    const free = link.capacity.free();
    const agents = [...free.agents.keys()].filter((id) => this.waiting.has(id));
    if (free.total === 0 || agents.length === 0) return;
    const limit = free.total + link.rejected.size;
    this.queries += 1;
    const candidates = await this.store.assignments.queuedFor(agents, limit);
    /** Per agent: rows seen that are still queued after this gateway's turn. */
    const left = new Map<string, number>();
    let total = free.total;
    for (const row of candidates) {
      const room = free.agents.get(row.agent_id) ?? 0;
      if (total === 0 || room <= 0 || link.rejected.has(row.id)) {
        left.set(row.agent_id, (left.get(row.agent_id) ?? 0) + 1);
        continue;
      }
      const offered = await this.offer(link, row);
      if (offered === 'gone') return;
      if (offered === 'taken') continue;
      total -= 1;
      free.agents.set(row.agent_id, room - 1);
    }
    // Every queued row of these agents came back (fewer than asked for): an agent none of whose
    // rows is left has an empty queue until the next notice.
    if (candidates.length < limit) for (const id of agents) if (!left.has(id)) this.waiting.delete(id);
  }

  private async offer(link: GatewayLink, row: AssignmentRow): Promise<'sent' | 'taken' | 'gone'> {
    const offerId = await this.assignments.offer(row, link.gatewayId, Date.now() + this.settings.leaseMs);
    if (!offerId) return 'taken';
    if (this.links.get(link.gatewayId) !== link) {
      // The gateway went away while we offered: the offer goes back to the queue.
      await this.assignments.requeue(row.id, row.attempt, link.gatewayId, offerId);
      return 'gone';
    }
    const n = link.capacity.offered(row.agent_id);
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
    return 'sent';
  }
}
