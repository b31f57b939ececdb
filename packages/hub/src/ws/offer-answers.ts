/**
 * A gateway's answers to offers: `accept`, `reject`, `starting`. Each names the offer it answers
 * (its fencing token, DESIGN §3), so an answer to an offer that lapsed while the gateway was away
 * changes nothing, and never turns into a revoke of the attempt that gateway holds under a later
 * offer.
 */
import type { GatewayFrameOf } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import type { GatewayLink } from '../dispatch/links.ts';
import { mintRunToken } from '../auth/run-tokens.ts';
import { holds } from '../domain/assignments.ts';

type OfferAnswer = GatewayFrameOf<'accept'> | GatewayFrameOf<'reject'> | GatewayFrameOf<'starting'>;

export async function answerOffer(ctx: HubContext, link: GatewayLink, frame: OfferAnswer): Promise<void> {
  const { assignmentId, attempt, offerId } = frame;
  switch (frame.t) {
    case 'accept': {
      const leaseUntil = Date.now() + ctx.settings.leaseMs;
      if (await ctx.assignments.claim(assignmentId, attempt, link.gatewayId, offerId, leaseUntil)) {
        // Told once this turn is done: the gateway's `starting`, right behind its accept, is not
        // held up by a write (a wake of the gateway) that it has no use for.
        setImmediate(() => link.send({ t: 'claimed', ...answerRef(frame) }));
      } else {
        await notCurrent(ctx, link, frame, 'the offer was withdrawn');
      }
      return;
    }
    case 'starting': {
      const row = await ctx.assignments.starting(assignmentId, attempt, link.gatewayId, offerId);
      if (row) {
        // The run acts with its own token, never the agent's key (DESIGN §6a).
        const runToken = await mintRunToken(ctx.store, row);
        link.send({ t: 'start', ...answerRef(frame), runToken });
      } else {
        await notCurrent(ctx, link, frame, 'the assignment is no longer yours to start');
      }
      return;
    }
    case 'reject': {
      const row = await ctx.store.assignments.get(assignmentId);
      // Only a reject of the offer this gateway holds frees its slot; a repeated one, or one of a
      // lapsed offer of the same attempt, changes nothing.
      if (row && (await ctx.assignments.requeue(assignmentId, attempt, link.gatewayId, offerId))) {
        ctx.log.info('offer rejected', { assignment: assignmentId, reason: frame.reason });
        ctx.dispatcher.rejected(link, assignmentId, row.agent_id);
      }
      return;
    }
  }
}

/**
 * An accept or starting that is not (or no longer) the current offer's. If this gateway holds the
 * attempt all the same (under a later offer, or already started), the answer is stale and is
 * ignored. Otherwise the offer it names is withdrawn, by name, so that a later offer of the same
 * attempt is not touched by this revoke.
 */
async function notCurrent(
  ctx: HubContext,
  link: GatewayLink,
  frame: OfferAnswer,
  reason: string,
): Promise<void> {
  const row = await ctx.store.assignments.get(frame.assignmentId);
  if (row && holds(row, link.gatewayId, frame.attempt)) {
    ctx.log.debug('ignored an answer to an earlier offer', {
      type: frame.t,
      assignment: frame.assignmentId,
      attempt: frame.attempt,
      offer: frame.offerId,
      current: row.offer_id,
    });
    return;
  }
  link.send({ t: 'revoke', ...answerRef(frame), reason });
}

/** The attempt (and the offer, when named) an answer is about. */
function answerRef(ref: { assignmentId: string; attempt: number; offerId?: string }) {
  return {
    assignmentId: ref.assignmentId,
    attempt: ref.attempt,
    ...(ref.offerId ? { offerId: ref.offerId } : {}),
  };
}
