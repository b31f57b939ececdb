/**
 * The one way the domain tells a gateway something (DESIGN §3): the lifecycle sends `cancel` and
 * `revoke` itself through this port, so no caller has to remember to. It is the gateway's socket on
 * this hub; a gateway connected to another hub of the system gets the frame through the bus
 * (`gatewayFrame`), sent by the hub that holds its socket.
 */
import type { HubFrame } from '@gantry/protocol';
import type { NoticeBus, RelayedFrame } from '../bus.ts';
import type { GatewayLink } from '../dispatch/links.ts';

export interface GatewayPort {
  /** Hands the frame to the gateway if it is connected; one that is away catches up on reconnect. */
  send(gatewayId: string, frame: HubFrame): void;
}

/**
 * What reaches a gateway on another hub on the bus. Not `attach` and `rekey`: they carry an agent
 * key, which must not travel in a NOTIFY payload; they go through the store (gateway-relay.ts).
 */
const relayed = new Set<HubFrame['t']>(['cancel', 'revoke', 'permission', 'detach']);

/**
 * The port over this hub's sockets (`local`) and the bus: a frame for a gateway with no socket here
 * is published, and every hub hands a published frame to the gateway if its socket is there.
 * Returns the port and a function that stops relaying.
 */
export function relayPort(
  local: GatewayPort & {
    isConnected(gatewayId: string): boolean;
    get(gatewayId: string): GatewayLink | undefined;
    unserve(link: GatewayLink, agentId: string): void;
  },
  bus: NoticeBus,
): { port: GatewayPort; stop: () => void } {
  /** The hub holding the socket sends the frame; a detached agent is no longer offered there either. */
  const deliver = (gatewayId: string, frame: HubFrame) => {
    const link = local.get(gatewayId);
    if (!link) return;
    if (frame.t === 'detach') local.unserve(link, frame.agentId);
    local.send(gatewayId, frame);
  };
  const stop = bus.on('gatewayFrame', ({ gatewayId, frame }) => deliver(gatewayId, frame));
  const port: GatewayPort = {
    send(gatewayId, frame) {
      if (local.isConnected(gatewayId)) deliver(gatewayId, frame);
      else if (relayed.has(frame.t)) bus.emit('gatewayFrame', { gatewayId, frame: frame as RelayedFrame });
    },
  };
  return { port, stop };
}
