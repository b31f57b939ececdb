/** The gateways connected to this hub right now, each with its socket and capacity. */
import type { HubFrame } from '@gantry/protocol';
import type { GatewayPort } from '../domain/gateway-port.ts';
import type { Capacity } from './capacity.ts';

export interface GatewayLink {
  gatewayId: string;
  workspaceId: string;
  name: string;
  /** Agents this connection serves: id -> name. */
  agents: Map<string, string>;
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

  get(gatewayId: string): GatewayLink | undefined {
    return this.byGateway.get(gatewayId);
  }

  send(gatewayId: string, frame: HubFrame): void {
    this.byGateway.get(gatewayId)?.send(frame);
  }

  /** Registers a link; an older link of the same gateway is closed (the newer connection wins). */
  add(link: GatewayLink): void {
    const old = this.byGateway.get(link.gatewayId);
    this.byGateway.set(link.gatewayId, link);
    old?.close(4000, 'replaced by a newer connection of this gateway');
  }

  /** Removes the link if it is still the current one for its gateway. */
  remove(link: GatewayLink): boolean {
    if (this.byGateway.get(link.gatewayId) !== link) return false;
    this.byGateway.delete(link.gatewayId);
    return true;
  }

  isConnected(gatewayId: string): boolean {
    return this.byGateway.has(gatewayId);
  }

  all(): GatewayLink[] {
    return [...this.byGateway.values()];
  }
}
