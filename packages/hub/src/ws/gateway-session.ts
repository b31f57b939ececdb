/**
 * One gateway's connection, over whatever carries its frames (`FrameSocket`). Frames are handled
 * one at a time in arrival order; each is validated against the protocol schema, and an invalid
 * one is answered with an `error` frame, never a crash. Its `Handshake` decides what the socket may
 * do before its hello is served; after that, every frame renews the gateway's leases and goes to
 * the dispatcher (slots), offer-answers.ts (offers) or attempt-frames.ts (events and results).
 */
import {
  GantryError,
  gatewayConnected,
  gatewayDisconnected,
  version,
  type GatewayFrame,
  type HelloFrame,
  type HubFrame,
} from '@gantry/protocol';
import { watchToken } from '../auth/revocation.ts';
import type { HubContext } from '../context.ts';
import { Capacity } from '../dispatch/capacity.ts';
import type { GatewayLink } from '../dispatch/links.ts';
import { reconcile, recordEvents, recordResult } from './attempt-frames.ts';
import { decodeFrame, encodeFrame, type FrameSocket } from './framing.ts';
import { admitHello, authenticateHello, Handshake, helloAgents, helloTimeoutMs } from './handshake.ts';
import { noHandshake, type SocketHandshake } from './handshakes.ts';
import { answerOffer } from './offer-answers.ts';

/** A served gateway may send this many invalid frames; the next one closes its socket. */
const maxInvalidFrames = 20;

export class GatewaySession {
  private readonly handshake: Handshake;
  private link: GatewayLink | undefined;
  /** Set once a hello's token is good: approval notices for this gateway wake a held hello. */
  private gatewayId: string | undefined;
  private invalid = 0;
  private lastRenew = 0;
  private ended = false;
  /** Stops watching the gateway token (set once a hello authenticated it). */
  private unwatchToken: (() => void) | undefined;
  private readonly unsubscribe: () => void;
  private queue = Promise.resolve();

  constructor(
    private readonly socket: FrameSocket,
    private readonly ctx: HubContext,
    gate: SocketHandshake = noHandshake,
    helloMs = helloTimeoutMs,
  ) {
    this.handshake = new Handshake(gate, () => socket.close(4001, 'no hello in time'), helloMs);
    this.send({ t: 'welcome', nonce: this.handshake.nonce, version });
    const decided = () => {
      this.queue = this.queue
        .then(() => this.approvalDecided())
        .catch((err: unknown) => {
          ctx.log.error('device approval handling failed', { error: (err as Error).message });
        });
    };
    const offApproval = ctx.bus.on('approval', (notice) => {
      if (notice.gatewayId === this.gatewayId) decided();
    });
    // A decision made on another hub while the bus was cut is read again.
    const offGap = ctx.bus.onGap(decided);
    this.unsubscribe = () => {
      offApproval();
      offGap();
    };
  }

  /** Resolves once every frame received so far has been handled. */
  settled(): Promise<void> {
    return this.queue;
  }

  receive(data: { toString(): string }, isBinary: boolean): void {
    if (!this.handshake.admitFrame())
      return this.fail('invalid_frame', 'only one frame, the hello, is read before the hub answers it');
    this.queue = this.queue.then(async () => {
      const decoded = decodeFrame(data, isBinary);
      if ('invalid' in decoded) return this.fail('invalid_frame', decoded.invalid);
      try {
        await this.handle(decoded.frame);
      } catch (err) {
        const error = err instanceof GantryError ? err : undefined;
        this.ctx.log.error('gateway frame failed', { type: decoded.frame.t, error: (err as Error).message });
        this.send({
          t: 'error',
          code: error?.code ?? 'internal',
          message: error?.message ?? 'internal error',
        });
        if (error?.code === 'unauthorized') this.socket.close(4003, error.message);
        // A hello that failed leaves nothing to wait for: the gateway reconnects and tries again.
        else if (this.handshake.closesOnFailure) this.socket.close(1011, 'hello failed');
      }
    });
  }

  /** The socket closed: offers it never started go back to the queue once its frames are handled. */
  closed(): void {
    this.ended = true;
    this.handshake.end();
    this.unsubscribe();
    this.unwatchToken?.();
    this.queue = this.queue.then(() => this.disconnected()).catch(() => undefined);
  }

  private send(frame: HubFrame): void {
    this.socket.send(encodeFrame(frame));
  }

  private fail(code: string, message: string): void {
    this.send({ t: 'error', code, message });
    if (this.handshake.strict) return this.socket.close(1008, 'invalid frame before hello');
    this.invalid += 1;
    if (this.invalid > maxInvalidFrames) this.socket.close(1008, 'too many invalid frames');
  }

  private async handle(frame: GatewayFrame): Promise<void> {
    if (frame.t === 'hello') return this.hello(frame);
    const link = this.link;
    if (!link) return this.fail('hello_required', 'send hello first');
    this.renewLeases(link);
    switch (frame.t) {
      case 'heartbeat':
        this.ctx.dispatcher.reported(link, frame);
        if (frame.bindings) await this.ctx.devices.bindings(link.gatewayId, link.workspaceId, frame.bindings);
        return;
      case 'accept':
      case 'reject':
      case 'starting':
        return answerOffer(this.ctx, link, frame);
      case 'running':
        return this.ctx.assignments.running(frame.assignmentId, frame.attempt, link.gatewayId);
      case 'events':
        return recordEvents(this.ctx, link, frame);
      case 'result':
        return recordResult(this.ctx, link, frame);
      case 'attached':
        // The answer to `agents add`; its slots arrive with the heartbeat that follows.
        this.ctx.templates.attached(link, frame);
        return;
    }
  }

  private async hello(frame: HelloFrame): Promise<void> {
    const { ctx } = this;
    if (!this.handshake.mayHello(frame))
      return this.fail('already_hello', 'hello was already received on this connection');
    const caller = await authenticateHello(ctx, frame);
    // Revoking or expiring the gateway token closes this connection at once, saying why.
    this.unwatchToken ??= watchToken(ctx, caller, (reason) => {
      this.send({ t: 'error', code: 'unauthorized', message: `gateway ${reason}` });
      this.socket.close(4003, `gateway ${reason}`);
    });
    if (this.ended) this.unwatchToken();
    this.handshake.authenticated();
    this.gatewayId = caller.id;
    const outcome = await admitHello(ctx, caller, frame, this.handshake.nonce);
    if (outcome.kind === 'refused') {
      this.send({ t: 'error', code: outcome.code, message: outcome.message });
      return this.socket.close(4003, outcome.reason);
    }
    if (outcome.kind === 'held') {
      this.handshake.hold(frame);
      this.send({ t: 'pending', ...outcome.pending });
      ctx.log.info('gateway waits for device approval', { gateway: caller.id, ...outcome.pending });
      return;
    }
    this.handshake.admitted();
    const { agents, served, notAttached } = await helloAgents(ctx, caller, frame, outcome.admission);
    for (const agentId of notAttached)
      this.send({
        t: 'error',
        code: 'not_attached',
        message: `agent ${agentId} is not attached to this gateway`,
      });
    const link: GatewayLink = {
      gatewayId: caller.id,
      workspaceId: caller.workspaceId,
      name: caller.name,
      agents,
      capacity: new Capacity({ slots: frame.slots, agents: served }),
      rejected: new Map(),
      send: (hubFrame) => this.send(hubFrame),
      close: (code, reason) => this.socket.close(code, reason),
      ping: (timeoutMs) => this.socket.ping(timeoutMs),
    };
    await ctx.store.gateways.connect(caller.id, ctx.instance.id, {
      last_seen_at: Date.now(),
      version: frame.version,
      ...(frame.hostname ? { hostname: frame.hostname } : {}),
    });
    this.link = link;
    ctx.links.add(link);
    await reconcile(ctx, link, frame.held);
    this.handshake.served();
    this.send({
      t: 'hello_ok',
      gatewayId: caller.id,
      workspaceId: caller.workspaceId,
      agents: [...agents].map(([id, name]) => ({ id, name })),
      heartbeatMs: ctx.settings.heartbeatMs,
      leaseMs: ctx.settings.leaseMs,
      graceMs: ctx.settings.graceMs,
    });
    // Agents of this gateway still waiting for a device approval are served once it comes.
    for (const pending of outcome.admission.pending) this.send({ t: 'pending', ...pending });
    // Decisions made while it was away, or whose confirmation it did not get to send.
    for (const permission of await ctx.approvals.unanswered(caller.id)) this.send(permission);
    ctx.log.info('gateway connected', { gateway: caller.id, name: caller.name, agents: agents.size });
    await this.announce(gatewayConnected, link);
    ctx.dispatcher.wake(link);
  }

  /**
   * A device approval of this gateway was asked for or decided: a held hello is tried again (and
   * answered `hello_ok`, or refused); a served connection with a newly approved agent reconnects
   * at once so its hello takes the agent up.
   */
  private async approvalDecided(): Promise<void> {
    const held = this.handshake.held;
    if (held) return this.hello(held);
    const link = this.link;
    if (!link) return;
    const gateway = await this.ctx.store.gateways.get(link.gatewayId);
    const grants = await this.ctx.devices.grantsOf(link.gatewayId);
    const newlyTrusted = [...grants.values()].some(
      (g) => g.status === 'approved' && !link.agents.has(g.agent_id),
    );
    if (gateway && newlyTrusted) this.socket.close(4000, 'device approved: say hello again');
  }

  /** Any frame is a sign of life: leases renew (in batches) at most a few times per lease period. */
  private renewLeases(link: GatewayLink): void {
    const now = Date.now();
    if (now - this.lastRenew < Math.min(1000, this.ctx.settings.leaseMs / 4)) return;
    this.lastRenew = now;
    this.ctx.renewals.renew(link.gatewayId);
  }

  private async disconnected(): Promise<void> {
    const gone = this.link;
    if (!gone || !this.ctx.links.remove(gone)) return;
    // Only if this hub still holds it: the gateway may have reconnected to another hub already.
    await this.ctx.store.gateways.disconnect(gone.gatewayId, this.ctx.instance.id, Date.now());
    // Offers it never started go back to the queue at once; started runs wait out their lease.
    for (const row of await this.ctx.store.assignments.heldBy(gone.gatewayId)) {
      if (row.state === 'offered') await this.ctx.assignments.requeue(row.id, row.attempt, gone.gatewayId);
    }
    // Offers requeued above wake the dispatcher through the bus.
    this.ctx.log.info('gateway disconnected', { gateway: gone.gatewayId });
    await this.announce(gatewayDisconnected, gone);
  }

  /** Presence changed: open dashboards and `gantry watch --event gateway.` hear it by push. */
  private async announce(
    definition: typeof gatewayConnected | typeof gatewayDisconnected,
    link: GatewayLink,
  ): Promise<void> {
    await this.ctx.activity.append(definition, {
      workspaceId: link.workspaceId,
      subject: link.gatewayId,
      data: {
        gateway: { id: link.gatewayId, name: link.name },
        agents: [...link.agents].map(([id, name]) => ({ id, name })),
      },
    });
  }
}
