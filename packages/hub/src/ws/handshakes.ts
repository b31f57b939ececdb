/**
 * What an unauthenticated gateway socket may cost the hub. Until its hello is answered a socket
 * counts against a cap (in total and per remote address) and may send one frame of at most
 * `maxHelloFrameBytes`; only a hello the hub serves raises its frame limit to `maxFrameBytes`.
 */
import type { WebSocket } from 'ws';
import { maxFrameBytes } from '@gantry/protocol';

export interface HandshakeLimits {
  /** Sockets that have not finished hello, from every address together. */
  maxPending: number;
  /** The same from one remote address: a proxy in front of many gateways is one address. */
  maxPendingPerAddress: number;
}

export const defaultHandshakeLimits: HandshakeLimits = { maxPending: 1024, maxPendingPerAddress: 64 };

/** What the upgrade that let a socket in hears of its hello (upgrade.ts). */
export interface SocketHandshake {
  /** `hello_ok` is about to go out: the gateway is authenticated and served. */
  served(): void;
  /** The hello is held for a device approval: authenticated, not yet served. */
  held(): void;
}

export const noHandshake: SocketHandshake = { served: () => {}, held: () => {} };

/** Counts the sockets between upgrade and the end of their hello. */
export class HandshakeGate {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: HandshakeLimits) {}

  /**
   * A place for one more pending socket from `address`: a release function (safe to call more
   * than once), or the reason there is none.
   */
  admit(address: string): { release: () => void } | { refused: string } {
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (this.total >= this.limits.maxPending) {
      return { refused: `${this.total} gateway handshakes are in progress: try again shortly` };
    }
    if (fromAddress >= this.limits.maxPendingPerAddress) {
      return {
        refused: `${fromAddress} gateway handshakes from ${address} are in progress: try again shortly`,
      };
    }
    this.total += 1;
    this.byAddress.set(address, fromAddress + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.byAddress.get(address) ?? 1) - 1;
        if (left > 0) this.byAddress.set(address, left);
        else this.byAddress.delete(address);
      },
    };
  }

  get pending(): number {
    return this.total;
  }
}

/**
 * Lets an authenticated socket receive frames up to the protocol's limit. `ws` fixes a socket's
 * limit when it upgrades and offers no setter, so this sets its receiver's own field; a `ws`
 * version without it fails here loudly (and in the hub's tests), never silently.
 */
export function raiseFrameLimit(ws: WebSocket, bytes = maxFrameBytes): void {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') {
    throw new Error('cannot raise the frame limit of this WebSocket: the ws library changed its receiver');
  }
  receiver._maxPayload = bytes;
}
