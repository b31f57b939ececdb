/**
 * The gateways connected to this hub right now, each with its socket and capacity, and which of
 * them serve each agent (so waking an agent's queue visits its gateways only, not every gateway).
 */
import type { HubFrame } from '@gantry/protocol';
import type { GatewayPort } from '../domain/gateway-port.ts';
import type { Capacity } from './capacity.ts';

export interface GatewayLink {
  gatewayId: string;
  workspaceId: string;
  name: string;
  /** Agents this connection serves: id -> name. Changed through `Links.serve` / `unserve` only. */
  agents: ReadonlyMap<string, string>;
  capacity: Capacity;
  /** Assignments this gateway rejected, with when they may be offered to it again. */
  rejected: Map<string, number>;
  send(frame: HubFrame): void;
  close(code: number, reason: string): void;
  /** A WebSocket ping: resolves with the round trip in ms, or undefined with no pong in `timeoutMs`. */
  ping(timeoutMs: number): Promise<number | undefined>;
}

export class Links implements GatewayPort {
  private readonly byGateway = new Map<string, GatewayLink>();
  private readonly byAgent = new Map<string, Set<GatewayLink>>();

  get(gatewayId: string): GatewayLink | undefined {
    return this.byGateway.get(gatewayId);
  }

  send(gatewayId: string, frame: HubFrame): void {
    this.byGateway.get(gatewayId)?.send(frame);
  }

  /** Registers a link; an older link of the same gateway is closed (the newer connection wins). */
  add(link: GatewayLink): void {
    const old = this.byGateway.get(link.gatewayId);
    if (old) this.unindex(old);
    this.byGateway.set(link.gatewayId, link);
    for (const agentId of link.agents.keys()) this.index(link, agentId);
    old?.close(4000, 'replaced by a newer connection of this gateway');
  }

  /** Removes the link if it is still the current one for its gateway. */
  remove(link: GatewayLink): boolean {
    if (this.byGateway.get(link.gatewayId) !== link) return false;
    this.byGateway.delete(link.gatewayId);
    this.unindex(link);
    return true;
  }

  /** The link serves one more agent (attached while connected). */
  serve(link: GatewayLink, agentId: string, name: string): void {
    (link.agents as Map<string, string>).set(agentId, name);
    if (this.byGateway.get(link.gatewayId) === link) this.index(link, agentId);
  }

  /** The link no longer serves the agent (detached or removed). */
  unserve(link: GatewayLink, agentId: string): void {
    (link.agents as Map<string, string>).delete(agentId);
    const set = this.byAgent.get(agentId);
    set?.delete(link);
    if (set?.size === 0) this.byAgent.delete(agentId);
  }

  isConnected(gatewayId: string): boolean {
    return this.byGateway.has(gatewayId);
  }

  all(): GatewayLink[] {
    return [...this.byGateway.values()];
  }

  /** The connected links that serve the agent. */
  serving(agentId: string): ReadonlySet<GatewayLink> {
    return this.byAgent.get(agentId) ?? noLinks;
  }

  private index(link: GatewayLink, agentId: string): void {
    let set = this.byAgent.get(agentId);
    if (!set) this.byAgent.set(agentId, (set = new Set()));
    set.add(link);
  }

  private unindex(link: GatewayLink): void {
    for (const agentId of link.agents.keys()) {
      const set = this.byAgent.get(agentId);
      set?.delete(link);
      if (set?.size === 0) this.byAgent.delete(agentId);
    }
  }
}

const noLinks: ReadonlySet<GatewayLink> = new Set();
