/**
 * A served gateway's word on the attempts it holds: `events` and `result` are stored, or, for an
 * attempt the hub no longer gives this gateway (given up on, retried, or never its own), kept out
 * and recorded in the audit log; and the reconcile after a (re)connect, when the hub's view and the
 * gateway's view of held attempts come together.
 */
import { redactDeep, type GatewayFrameOf, type HelloFrame } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import type { GatewayLink } from '../dispatch/links.ts';

type Ref = { assignmentId: string; attempt: number };

export async function recordEvents(
  ctx: HubContext,
  link: GatewayLink,
  frame: GatewayFrameOf<'events'>,
): Promise<void> {
  const row = await ctx.store.assignments.get(frame.assignmentId);
  if (!row || row.gateway_id !== link.gatewayId || row.attempt !== frame.attempt) {
    // Not this gateway's attempt (never, or no longer): nothing is stored. The ack clears the
    // gateway's outbox so it does not replay them forever; the revoke stops a run still going.
    const top = Math.max(...frame.events.map((e) => e.seq));
    link.send({ t: 'events_ack', assignmentId: frame.assignmentId, attempt: frame.attempt, seq: top });
    await lateOutput(ctx, link, frame, 'late_events', {
      count: frame.events.length,
      seqs: [frame.events[0]?.seq, top],
    });
    return revoke(link, frame, 'this gateway does not hold that attempt');
  }
  const upTo = await ctx.assignments.appendEvents(frame.assignmentId, frame.attempt, frame.events);
  // Before the ack: once acked, the gateway never sends these events again.
  await ctx.approvals.ingest(row, frame.attempt, frame.events);
  link.send({ t: 'events_ack', assignmentId: frame.assignmentId, attempt: frame.attempt, seq: upTo });
}

export async function recordResult(
  ctx: HubContext,
  link: GatewayLink,
  frame: GatewayFrameOf<'result'>,
): Promise<void> {
  const ended = await ctx.assignments.complete(frame, link.gatewayId);
  if (ended) {
    ctx.dispatcher.finished(link, ended.agent_id);
  } else {
    await lateOutput(ctx, link, frame, 'late_result', { status: frame.status, error: frame.error ?? null });
  }
  link.send({ t: 'result_ack', assignmentId: frame.assignmentId, attempt: frame.attempt });
}

/** After a (re)connect: attempts only the hub remembers are lost; those only the gateway holds are revoked. */
export async function reconcile(ctx: HubContext, link: GatewayLink, held: HelloFrame['held']): Promise<void> {
  const heldKeys = new Set(held.map((h) => `${h.assignmentId}#${h.attempt}`));
  const rows = await ctx.store.assignments.heldBy(link.gatewayId);
  const ours = new Set<string>();
  const leaseUntil = Date.now() + ctx.settings.leaseMs;
  for (const row of rows) {
    const key = `${row.id}#${row.attempt}`;
    ours.add(key);
    if (heldKeys.has(key)) {
      if (row.state === 'cancelling') {
        link.send({ t: 'cancel', assignmentId: row.id, attempt: row.attempt, reason: 'cancelled' });
      }
      continue;
    }
    // The hub thinks this gateway holds it, the gateway does not: it is gone.
    const outcome = await ctx.assignments.lose(row, 'the gateway reconnected without it');
    ctx.log.warn('attempt missing on reconnect', { assignment: row.id, attempt: row.attempt, outcome });
  }
  await ctx.store.assignments.renewLeases([link.gatewayId], leaseUntil);
  for (const h of held) {
    const key = `${h.assignmentId}#${h.attempt}`;
    if (ours.has(key) || h.state === 'finished') continue; // finished: its result is on the way
    revoke(link, h, 'the hub no longer assigns this attempt to this gateway');
  }
}

/** Output for an attempt this gateway does not hold: kept out of the assignment, audited instead. */
async function lateOutput(
  ctx: HubContext,
  link: GatewayLink,
  ref: Ref,
  action: string,
  data: Record<string, unknown>,
): Promise<void> {
  ctx.log.warn('output for an attempt this gateway does not hold', {
    action,
    gateway: link.gatewayId,
    assignmentId: ref.assignmentId,
    attempt: ref.attempt,
  });
  await ctx.store.audit.record({
    workspaceId: link.workspaceId,
    actor: `gateway:${link.gatewayId}`,
    action,
    subject: ref.assignmentId,
    // What a refused frame carries (a run's error text) is masked before it is kept.
    data: redactDeep({ attempt: ref.attempt, ...data }),
  });
}

function revoke(link: GatewayLink, ref: Ref, reason: string): void {
  link.send({ t: 'revoke', assignmentId: ref.assignmentId, attempt: ref.attempt, reason });
}
