/**
 * What a gateway can take right now, as the hub sees it. The gateway reports free slots (total
 * and per agent) in `hello` and every heartbeat; between reports the hub counts its own offers
 * down and releases back up. A heartbeat says how many offers it had seen, so offers still in
 * flight are not counted twice: the hub never offers more than the gateway can take.
 */
import type { HeartbeatFrame, HelloFrame } from '@gantry/protocol';

type Report = Pick<HelloFrame, 'slots' | 'agents'>;

export class Capacity {
  private total = 0;
  private readonly perAgent = new Map<string, number>();
  /** Offers sent that no report has counted yet: offer number -> agent. */
  private readonly unseen = new Map<number, string>();
  private sent = 0;

  constructor(report: Report) {
    this.apply(report, 0);
  }

  report(frame: Pick<HeartbeatFrame, 'slots' | 'agents' | 'seenOffers'>): void {
    this.apply(frame, frame.seenOffers);
  }

  private apply(report: Report, seen: number): void {
    for (const n of this.unseen.keys()) if (n <= seen) this.unseen.delete(n);
    this.total = report.slots - this.unseen.size;
    this.perAgent.clear();
    for (const agent of report.agents) this.perAgent.set(agent.agentId, agent.slots);
    for (const agentId of this.unseen.values())
      this.perAgent.set(agentId, (this.perAgent.get(agentId) ?? 0) - 1);
  }

  /** Agents that can take one more now, and how many in all. */
  free(): { total: number; agents: Map<string, number> } {
    const agents = new Map<string, number>();
    for (const [id, n] of this.perAgent) if (n > 0) agents.set(id, Math.min(n, this.total));
    return { total: Math.max(0, this.total), agents };
  }

  /** Counts an offer down; returns its number for the offer frame. */
  offered(agentId: string): number {
    this.sent += 1;
    this.unseen.set(this.sent, agentId);
    this.total -= 1;
    this.perAgent.set(agentId, (this.perAgent.get(agentId) ?? 0) - 1);
    return this.sent;
  }

  /** A slot came back (a reject or a result) since the last report. */
  released(agentId: string): void {
    this.total += 1;
    if (this.perAgent.has(agentId)) this.perAgent.set(agentId, (this.perAgent.get(agentId) ?? 0) + 1);
  }
}
