/**
 * A gateway socket's handshake: `welcome` with a nonce, then one hello. Until the hub serves that
 * hello the socket is a stranger: one frame (the hello) is read, the first invalid one closes it,
 * and no hello in time closes it too (handshakes.ts keeps what strangers cost together). A hello is
 * authenticated (a gateway token), its device admitted, and then served, held for a device
 * approval, or refused.
 */
import { randomBytes } from 'node:crypto';
import { GantryError, type HelloFrame } from '@gantry/protocol';
import { authenticate, type Caller } from '../auth/authenticate.ts';
import type { HubContext } from '../context.ts';
import type { Admission } from '../domain/devices.ts';
import type { SocketHandshake } from './handshakes.ts';

export const helloTimeoutMs = 10_000;

/**
 * `stranger` until a hello gets through; `held` while it waits for a device approval; `admitted`
 * while the hub takes its agents up; `served` once `hello_ok` is on its way.
 */
export type HandshakePhase = 'stranger' | 'held' | 'admitted' | 'served';

export class Handshake {
  readonly nonce = randomBytes(16).toString('base64url');
  private current: HandshakePhase = 'stranger';
  private frames = 0;
  private heldHello: HelloFrame | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly gate: SocketHandshake,
    onTimeout: () => void,
    timeoutMs = helloTimeoutMs,
  ) {
    this.timer = setTimeout(onTimeout, timeoutMs);
  }

  get phase(): HandshakePhase {
    return this.current;
  }

  /** The hello waiting for a device approval, tried again when one is decided. */
  get held(): HelloFrame | undefined {
    return this.heldHello;
  }

  /** Counted on arrival, so a stranger cannot queue frames behind a slow hello: false past the first. */
  admitFrame(): boolean {
    return this.current === 'served' || ++this.frames <= 1;
  }

  /** A first hello, or the held one tried again; any other is `already_hello`. */
  mayHello(frame: HelloFrame): boolean {
    return this.current === 'stranger' || (this.current === 'held' && frame === this.heldHello);
  }

  /** Before `hello_ok` an invalid frame closes the socket; after it, a gateway may send a few. */
  get strict(): boolean {
    return this.current !== 'served';
  }

  /** A hello that failed with nothing held leaves nothing to wait for: the socket closes. */
  get closesOnFailure(): boolean {
    return this.current === 'stranger' || this.current === 'admitted';
  }

  /** The token is good: no more hello clock (a held hello may wait for hours). */
  authenticated(): void {
    clearTimeout(this.timer);
  }

  hold(frame: HelloFrame): void {
    this.current = 'held';
    this.heldHello = frame;
    this.gate.held();
  }

  admitted(): void {
    this.current = 'admitted';
    this.heldHello = undefined;
  }

  served(): void {
    this.current = 'served';
    this.gate.served();
  }

  /** The socket closed. */
  end(): void {
    clearTimeout(this.timer);
  }
}

/** The caller a hello's token speaks for: a gateway, or `unauthorized`. */
export async function authenticateHello(ctx: HubContext, frame: HelloFrame): Promise<Caller> {
  const caller = await authenticate(ctx.store, frame.token);
  if (caller.kind !== 'gateway')
    throw new GantryError('unauthorized', 'a gateway token (gnt_g_) is required');
  return caller;
}

/** What an authenticated hello comes to. */
export type HelloOutcome =
  | { kind: 'refused'; code: 'device_mismatch' | 'device_denied'; message: string; reason: string }
  | { kind: 'held'; pending: Admission['pending'][number] }
  | { kind: 'admitted'; admission: Admission };

/** Checks the gateway's device (the nonce signed with its key) and its trust for each agent. */
export async function admitHello(
  ctx: HubContext,
  caller: Caller,
  frame: HelloFrame,
  nonce: string,
): Promise<HelloOutcome> {
  const gateway = await ctx.store.gateways.get(caller.id);
  if (!gateway) throw new GantryError('unauthorized', 'this gateway is not registered');
  let admission: Admission;
  try {
    admission = await ctx.devices.admit(gateway, frame, nonce);
  } catch (err) {
    // A wrong device key: said in full in the error frame (a close reason holds 123 bytes).
    if (!(err instanceof GantryError) || err.code !== 'unauthorized') throw err;
    ctx.log.warn('gateway refused: device key does not match', { gateway: gateway.id });
    return { kind: 'refused', code: 'device_mismatch', message: err.message, reason: 'device key mismatch' };
  }
  const [pending] = admission.pending;
  const [denied] = admission.denied;
  if (admission.served.length === 0 && pending) return { kind: 'held', pending };
  if (admission.served.length === 0 && denied)
    return { kind: 'refused', code: 'device_denied', message: denied, reason: 'device denied' };
  return { kind: 'admitted', admission };
}

/**
 * The agents an admitted hello takes up (id -> name, and with their slots), and those it named that
 * are not attached to this gateway (an agent still waiting for its approval is neither).
 */
export async function helloAgents(
  ctx: HubContext,
  caller: Caller,
  frame: HelloFrame,
  admission: Admission,
): Promise<{ agents: Map<string, string>; served: HelloFrame['agents']; notAttached: string[] }> {
  if (frame.bindings) await ctx.devices.bindings(caller.id, caller.workspaceId, frame.bindings);
  const names = new Map(admission.served.map((a) => [a.id, a.name]));
  const waiting = new Set(
    admission.pending.length + admission.denied.length > 0
      ? (await ctx.store.gateways.agentsOf([caller.id])).map((a) => a.id)
      : [],
  );
  const served = frame.agents.filter((a) => names.has(a.agentId));
  return {
    agents: new Map(served.map((a) => [a.agentId, names.get(a.agentId) ?? a.agentId])),
    served,
    notAttached: frame.agents
      .filter((a) => !names.has(a.agentId) && !waiting.has(a.agentId))
      .map((a) => a.agentId),
  };
}
