/**
 * One gateway's WebSocket. Frames are handled one at a time in arrival order; each is validated
 * against the protocol schema, and an invalid one is answered with an `error` frame, never a crash.
 * Before its hello is served a socket is a stranger: it may send that one frame, and an invalid
 * one closes it (handshakes.ts keeps the rest of what a stranger may cost).
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  gatewayFrameSchema,
  GantryError,
  redactDeep,
  parseJson,
  version,
  type GatewayFrame,
  type GatewayFrameOf,
  type HubFrame,
} from '@gantry/protocol';
import { authenticate } from '../auth/authenticate.ts';
import { watchToken } from '../auth/revocation.ts';
import { Capacity } from '../dispatch/capacity.ts';
import type { GatewayLink } from '../dispatch/links.ts';
import type { HubContext } from '../context.ts';
import { answerOffer } from './offer-answers.ts';
import { noHandshake } from './handshakes.ts';

const helloTimeoutMs = 10_000;
const maxInvalidFrames = 20;

export function handleGatewaySocket(ws: WebSocket, ctx: HubContext, handshake = noHandshake): void {
  const send = (frame: HubFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  let link: GatewayLink | undefined;
  let invalid = 0;
  /** Frames received before `hello_ok`: only the hello is read. */
  let beforeHello = 0;
  let helloServed = false;
  let lastRenew = 0;
  /** Stops watching the gateway token (set once hello authenticated it). */
  let unwatchToken: (() => void) | undefined;
  let queue = Promise.resolve();

  const nonce = randomBytes(16).toString('base64url');
  send({ t: 'welcome', nonce, version });
  /** A hello waiting for a device approval, and the bus subscription that wakes it. */
  let held: GatewayFrameOf<'hello'> | undefined;
  let gatewayId: string | undefined;
  const unsubscribe = ctx.bus.on('approval', (notice) => {
    if (notice.gatewayId !== gatewayId) return;
    queue = queue
      .then(() => approvalDecided())
      .catch((err: unknown) => {
        ctx.log.error('device approval handling failed', { error: (err as Error).message });
      });
  });
  const helloTimer = setTimeout(() => ws.close(4001, 'no hello in time'), helloTimeoutMs);

  const fail = (code: string, message: string) => {
    send({ t: 'error', code, message });
    if (!helloServed) return ws.close(1008, 'invalid frame before hello');
    invalid += 1;
    if (invalid > maxInvalidFrames) ws.close(1008, 'too many invalid frames');
  };

  ws.on('message', (data, isBinary) => {
    // Checked on arrival, so a stranger cannot queue up frames behind a slow hello.
    if (!helloServed && ++beforeHello > 1)
      return fail('invalid_frame', 'only one frame, the hello, is read before the hub answers it');
    queue = queue.then(async () => {
      if (isBinary) return fail('invalid_frame', 'frames are JSON text');
      let json: unknown;
      try {
        json = parseJson(String(data), 'frame');
      } catch (err) {
        return fail('invalid_frame', (err as Error).message);
      }
      const parsed = gatewayFrameSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return fail('invalid_frame', `invalid frame: ${issue?.path.join('.') || 'frame'}: ${issue?.message}`);
      }
      try {
        await handle(parsed.data);
      } catch (err) {
        const error = err instanceof GantryError ? err : undefined;
        ctx.log.error('gateway frame failed', { type: parsed.data.t, error: (err as Error).message });
        send({ t: 'error', code: error?.code ?? 'internal', message: error?.message ?? 'internal error' });
        if (error?.code === 'unauthorized') ws.close(4003, error.message);
        // A hello that failed leaves nothing to wait for: the gateway reconnects and tries again.
        else if (!helloServed && !held) ws.close(1011, 'hello failed');
      }
    });
  });

  ws.on('close', () => {
    clearTimeout(helloTimer);
    unsubscribe();
    queue = queue.then(() => closed()).catch(() => undefined);
  });
  ws.on('error', (err) => ctx.log.warn('gateway socket error', { error: err.message }));

  async function handle(frame: GatewayFrame): Promise<void> {
    if (frame.t === 'hello') return hello(frame);
    if (!link) return fail('hello_required', 'send hello first');
    await renewLeases(link);
    switch (frame.t) {
      case 'heartbeat':
        // Only agents attached to this gateway count: a gateway never gets another agent's work.
        link.capacity.report({ ...frame, agents: frame.agents.filter((a) => link?.agents.has(a.agentId)) });
        ctx.dispatcher.kick();
        if (frame.bindings) await ctx.devices.bindings(link.gatewayId, link.workspaceId, frame.bindings);
        return;
      case 'accept':
      case 'reject':
      case 'starting':
        return answerOffer(ctx, link, frame);
      case 'running':
        return ctx.assignments.running(frame.assignmentId, frame.attempt, link.gatewayId);
      case 'events': {
        const row = await ctx.store.getAssignment(frame.assignmentId);
        if (!row || row.gateway_id !== link.gatewayId || row.attempt !== frame.attempt) {
          // Not this gateway's attempt (never, or no longer): nothing is stored. The ack clears the
          // gateway's outbox so it does not replay them forever; the revoke stops a run still going.
          const top = Math.max(...frame.events.map((e) => e.seq));
          send({ t: 'events_ack', assignmentId: frame.assignmentId, attempt: frame.attempt, seq: top });
          await lateOutput(link, frame, 'late_events', {
            count: frame.events.length,
            seqs: [frame.events[0]?.seq, top],
          });
          return revoke(frame, 'this gateway does not hold that attempt');
        }
        const upTo = await ctx.assignments.appendEvents(frame.assignmentId, frame.attempt, frame.events);
        // Before the ack: once acked, the gateway never sends these events again.
        await ctx.approvals.ingest(row, frame.attempt, frame.events);
        send({ t: 'events_ack', assignmentId: frame.assignmentId, attempt: frame.attempt, seq: upTo });
        return;
      }
      case 'result': {
        const applied = await ctx.assignments.complete(frame, link.gatewayId);
        if (applied) {
          const row = await ctx.store.getAssignment(frame.assignmentId);
          if (row) link.capacity.released(row.agent_id);
          ctx.dispatcher.kick();
        } else {
          await lateOutput(link, frame, 'late_result', { status: frame.status, error: frame.error ?? null });
        }
        send({ t: 'result_ack', assignmentId: frame.assignmentId, attempt: frame.attempt });
        return;
      }
      case 'attached':
        // The answer to `agents add`; its slots arrive with the heartbeat that follows.
        ctx.templates.attached(link, frame);
        return;
    }
  }

  async function hello(frame: GatewayFrameOf<'hello'>): Promise<void> {
    if (link || (held && frame !== held))
      return fail('already_hello', 'hello was already received on this connection');
    const caller = await authenticate(ctx.store, frame.token);
    if (caller.kind !== 'gateway')
      throw new GantryError('unauthorized', 'a gateway token (gnt_g_) is required');
    // Revoking or expiring the gateway token closes this connection at once, saying why.
    unwatchToken ??= watchToken(ctx, caller, (reason) => {
      send({ t: 'error', code: 'unauthorized', message: `gateway ${reason}` });
      ws.close(4003, `gateway ${reason}`);
    });
    ws.once('close', () => unwatchToken?.());
    clearTimeout(helloTimer);
    const gateway = await ctx.store.getGateway(caller.id);
    if (!gateway) throw new GantryError('unauthorized', 'this gateway is not registered');
    gatewayId = gateway.id;
    let admission;
    try {
      admission = await ctx.devices.admit(gateway, frame, nonce);
    } catch (err) {
      // A wrong device key: said in full in the error frame (a close reason holds 123 bytes).
      if (!(err instanceof GantryError) || err.code !== 'unauthorized') throw err;
      ctx.log.warn('gateway refused: device key does not match', { gateway: gateway.id });
      send({ t: 'error', code: 'device_mismatch', message: err.message });
      ws.close(4003, 'device key mismatch');
      return;
    }
    if (admission.served.length === 0 && admission.pending[0]) {
      held = frame;
      handshake.held();
      send({ t: 'pending', ...admission.pending[0] });
      ctx.log.info('gateway waits for device approval', { gateway: gateway.id, ...admission.pending[0] });
      return;
    }
    if (admission.served.length === 0 && admission.denied[0]) {
      send({ t: 'error', code: 'device_denied', message: admission.denied[0] });
      ws.close(4003, 'device denied');
      return;
    }
    held = undefined;
    if (frame.bindings) await ctx.devices.bindings(gateway.id, gateway.workspace_id, frame.bindings);
    const names = new Map(admission.served.map((a) => [a.id, a.name]));
    const waiting = new Set(
      admission.pending.length + admission.denied.length > 0 ? await attachedIds(caller.id) : [],
    );
    const served = frame.agents.filter((a) => names.has(a.agentId));
    for (const extra of frame.agents.filter((a) => !names.has(a.agentId) && !waiting.has(a.agentId))) {
      send({
        t: 'error',
        code: 'not_attached',
        message: `agent ${extra.agentId} is not attached to this gateway`,
      });
    }
    const current: GatewayLink = {
      gatewayId: caller.id,
      workspaceId: caller.workspaceId,
      name: caller.name,
      agents: new Map(served.map((a) => [a.agentId, names.get(a.agentId) ?? a.agentId])),
      capacity: new Capacity({ slots: frame.slots, agents: served }),
      rejected: new Map(),
      send,
      close: (code, reason) => ws.close(code, reason),
      ping: (timeoutMs) => pingSocket(ws, timeoutMs),
    };
    await ctx.store.updateGateway(caller.id, {
      connected: 1,
      last_seen_at: Date.now(),
      version: frame.version,
      ...(frame.hostname ? { hostname: frame.hostname } : {}),
    });
    link = current;
    ctx.links.add(current);
    await reconcile(current, frame.held);
    helloServed = true;
    handshake.served();
    send({
      t: 'hello_ok',
      gatewayId: caller.id,
      workspaceId: caller.workspaceId,
      agents: [...current.agents].map(([id, name]) => ({ id, name })),
      heartbeatMs: ctx.settings.heartbeatMs,
      leaseMs: ctx.settings.leaseMs,
      graceMs: ctx.settings.graceMs,
    });
    // Agents of this gateway still waiting for a device approval are served once it comes.
    for (const pending of admission.pending) send({ t: 'pending', ...pending });
    // Decisions made while it was away, or whose confirmation it did not get to send.
    for (const permission of await ctx.approvals.unanswered(caller.id)) send(permission);
    ctx.log.info('gateway connected', { gateway: caller.id, name: caller.name, agents: current.agents.size });
    ctx.dispatcher.kick();
  }

  async function attachedIds(id: string): Promise<string[]> {
    return (await ctx.store.gatewayAgents([id])).map((a) => a.id);
  }

  /**
   * A device approval of this gateway was asked for or decided: a held hello is tried again (and
   * answered `hello_ok`, or refused); a served connection with a newly approved agent reconnects
   * at once so its hello takes the agent up.
   */
  async function approvalDecided(): Promise<void> {
    if (held) return hello(held);
    if (!link) return;
    const gateway = await ctx.store.getGateway(link.gatewayId);
    const grants = await ctx.devices.grantsOf(link.gatewayId);
    const newlyTrusted = [...grants.values()].some(
      (g) => g.status === 'approved' && !link?.agents.has(g.agent_id),
    );
    if (gateway && newlyTrusted) ws.close(4000, 'device approved: say hello again');
  }

  /** Brings the hub's view and the gateway's view of held attempts together after a (re)connect. */
  async function reconcile(current: GatewayLink, held: GatewayFrameOf<'hello'>['held']): Promise<void> {
    const heldKeys = new Set(held.map((h) => `${h.assignmentId}#${h.attempt}`));
    const rows = await ctx.store.heldBy(current.gatewayId);
    const ours = new Set<string>();
    const leaseUntil = Date.now() + ctx.settings.leaseMs;
    for (const row of rows) {
      const key = `${row.id}#${row.attempt}`;
      ours.add(key);
      if (heldKeys.has(key)) {
        if (row.state === 'cancelling') {
          send({ t: 'cancel', assignmentId: row.id, attempt: row.attempt, reason: 'cancelled' });
        }
        continue;
      }
      // The hub thinks this gateway holds it, the gateway does not: it is gone.
      const outcome = await ctx.assignments.lose(row, 'the gateway reconnected without it');
      ctx.log.warn('attempt missing on reconnect', { assignment: row.id, attempt: row.attempt, outcome });
    }
    await ctx.store.renewLeases(current.gatewayId, leaseUntil);
    for (const h of held) {
      const key = `${h.assignmentId}#${h.attempt}`;
      if (ours.has(key) || h.state === 'finished') continue; // finished: its result is on the way
      revoke(h, 'the hub no longer assigns this attempt to this gateway');
    }
  }

  /**
   * Output for an attempt the hub no longer gives this gateway (given up on, retried, or never its
   * own) is kept out of the assignment and recorded in the audit log instead.
   */
  async function lateOutput(
    current: GatewayLink,
    ref: { assignmentId: string; attempt: number },
    action: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    ctx.log.warn('output for an attempt this gateway does not hold', {
      action,
      gateway: current.gatewayId,
      ...ref,
    });
    await ctx.store.audit({
      workspaceId: current.workspaceId,
      actor: `gateway:${current.gatewayId}`,
      action,
      subject: ref.assignmentId,
      // What a refused frame carries (a run's error text) is masked before it is kept.
      data: redactDeep({ attempt: ref.attempt, ...data }),
    });
  }

  function revoke(ref: { assignmentId: string; attempt: number }, reason: string): void {
    send({ t: 'revoke', assignmentId: ref.assignmentId, attempt: ref.attempt, reason });
  }

  /** Any frame is a sign of life: leases renew at most a few times per lease period. */
  async function renewLeases(current: GatewayLink): Promise<void> {
    const now = Date.now();
    if (now - lastRenew < Math.min(1000, ctx.settings.leaseMs / 4)) return;
    lastRenew = now;
    await ctx.store.renewLeases(current.gatewayId, now + ctx.settings.leaseMs);
    await ctx.store.updateGateway(current.gatewayId, { last_seen_at: now });
  }

  async function closed(): Promise<void> {
    if (!link || !ctx.links.remove(link)) return;
    const gone = link;
    await ctx.store.updateGateway(gone.gatewayId, { connected: 0, last_seen_at: Date.now() });
    // Offers it never started go back to the queue at once; started runs wait out their lease.
    for (const row of await ctx.store.heldBy(gone.gatewayId)) {
      if (row.state === 'offered') await ctx.assignments.requeue(row.id, row.attempt, gone.gatewayId);
    }
    ctx.log.info('gateway disconnected', { gateway: gone.gatewayId });
    ctx.dispatcher.kick();
  }
}

/**
 * One WebSocket ping with its own payload (concurrent pings each wait for their own pong); the
 * gateway's `ws` client answers pings by itself, so this measures the socket and the event loop
 * of the gateway, not any agent run.
 */
function pingSocket(ws: WebSocket, timeoutMs: number): Promise<number | undefined> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve(undefined);
  const payload = randomBytes(8);
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (rtt: number | undefined) => {
      clearTimeout(timer);
      ws.off('pong', onPong);
      ws.off('close', onClose);
      resolve(rtt);
    };
    const onPong = (data: Buffer) => {
      if (data.equals(payload)) done(performance.now() - started);
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.ping(payload, undefined, (err) => {
      if (err) done(undefined);
    });
  });
}
