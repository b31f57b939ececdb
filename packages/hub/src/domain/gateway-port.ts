/**
 * The one way the domain tells a gateway something (DESIGN §3): the lifecycle sends `cancel` and
 * `revoke` itself through this port, so no caller has to remember to. Here it is the gateway's
 * socket on this hub; with several hubs it becomes a publish on the database bus, in one place.
 */
import type { HubFrame } from '@gantry/protocol';

export interface GatewayPort {
  /** Hands the frame to the gateway if it is connected; one that is away catches up on reconnect. */
  send(gatewayId: string, frame: HubFrame): void;
}
