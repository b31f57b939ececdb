/**
 * A hub's offers and what follows them: accept within the machine's slots (or reject saying why),
 * `starting` once the workdir is free, the provider spawned on the hub's `start`, and the hub's
 * `cancel` and `revoke`. Offer ids fence the answers (DESIGN §3): an attempt offered again stays
 * one run, and a revoke of an earlier offer than the one a run holds leaves it going.
 */
import type { GatewayFrame, HubFrameOf, Logger, OfferedAssignment } from '@gantry/protocol';
import type { AgentBindings } from './agent-bindings.ts';
import { attemptRef, offerRef, type AttemptRunner, type HubAttempt } from './attempt-runner.ts';
import { runIdOf, type Attempt, type AttemptHolder, type AttemptTable } from './attempts.ts';
import { prepareRun } from './run-provider.ts';
import type { GatewaySession } from './session-file.ts';

export interface HubOffersDeps {
  /** The hub's session: the agents this gateway serves there. */
  session: GatewaySession;
  table: AttemptTable;
  bindings: AgentBindings;
  held: AttemptHolder<HubAttempt>;
  runner: AttemptRunner;
  /** Sends a frame now if connected; a lost answer is repeated on the next connect. */
  send(frame: GatewayFrame): void;
  newAttempt(offer: OfferedAssignment): Attempt;
  log: Logger;
}

type AttemptFrame = { assignmentId: string; attempt: number };

export class HubOffers {
  constructor(private readonly deps: HubOffersDeps) {}

  offer(offer: OfferedAssignment, offerId: string | undefined): void {
    const { table, bindings, held } = this.deps;
    const ref = { assignmentId: offer.id, attempt: offer.attempt, ...(offerId ? { offerId } : {}) };
    const reject = (reason: string) => this.deps.send({ t: 'reject', ...ref, reason });
    if (table.closed) return reject('the gateway is stopping');
    const holding = held.get(runIdOf(ref));
    if (holding?.reason) return reject('this gateway is stopping that attempt');
    if (holding) return this.reoffered(holding, offerId);
    if (!this.deps.session.agents.some((a) => a.id === offer.agentId))
      return reject('this gateway does not serve that agent');
    if (table.agentSlots(offer.agentId, bindings.parallelOf(bindings.of(offer.agentId))) <= 0)
      return reject('no free slot');
    const run: HubAttempt = { ...this.deps.newAttempt(offer), ...(offerId ? { offerId } : {}) };
    held.add(run);
    this.deps.runner.record(run);
    this.deps.send({ t: 'accept', ...ref });
    void this.askToStart(run);
  }

  /** The hub's `start`: only an attempt that asked to start is spawned, with the run token it carries. */
  start(frame: HubFrameOf<'start'>): void {
    const run = this.find(frame);
    if (run?.state !== 'starting') return;
    if (frame.runToken) run.runToken = frame.runToken;
    this.deps.runner.launch(run);
  }

  cancel(frame: HubFrameOf<'cancel'>): void {
    const run = this.find(frame);
    if (run) this.deps.runner.halt(run, frame.reason);
  }

  /** A revoke naming an earlier offer than the one this run holds is stale: the run goes on. */
  revoke(frame: HubFrameOf<'revoke'>): void {
    const run = this.find(frame);
    if (!run) return;
    const log = { assignment: frame.assignmentId, attempt: frame.attempt, reason: frame.reason };
    if (frame.offerId && run.offerId && frame.offerId !== run.offerId) {
      this.deps.log.debug('ignored a revoke of an earlier offer', { ...log, offer: frame.offerId });
      return;
    }
    this.deps.log.warn('the hub revoked an attempt', log);
    run.revokedFor ??= frame.reason;
    this.deps.runner.halt(run, 'revoked');
  }

  /** After a (re)connect: each held attempt's answers so far, said again (an accepted one goes on to start). */
  repeatAnswers(): void {
    const { send } = this.deps;
    for (const run of this.deps.held.list()) {
      if (run.state === 'accepted') {
        send({ t: 'accept', ...offerRef(run) });
        void this.askToStart(run);
      }
      if (run.state === 'starting') send({ t: 'starting', ...offerRef(run) });
      if (run.state === 'running') send({ t: 'running', ...attemptRef(run) });
    }
  }

  private find(ref: AttemptFrame): HubAttempt | undefined {
    return this.deps.held.get(runIdOf(ref));
  }

  /**
   * An attempt this gateway holds is offered again (its earlier offer lapsed while the answers were
   * on their way): it stays one run, now under the new offer, and its answers so far are repeated
   * under it so the hub's view of the attempt catches up. Never a second run.
   */
  private reoffered(run: HubAttempt, offerId: string | undefined): void {
    if (offerId) run.offerId = offerId;
    this.deps.send({ t: 'accept', ...offerRef(run) });
    if (run.state !== 'accepted') this.deps.send({ t: 'starting', ...offerRef(run) });
    if (run.state === 'running') this.deps.send({ t: 'running', ...attemptRef(run) });
  }

  /**
   * Right behind `accept` (no round trip for `claimed`: the hub handles a connection's frames in
   * order, so `starting` succeeds only if the claim did), once no other run uses the workdir
   * (agents bound to one folder take turns there; the hub only counts per agent): ask the
   * hub to start. The provider is spawned only on its `start`.
   */
  private async askToStart(run: HubAttempt): Promise<void> {
    if (run.waiting) return;
    run.waiting = true;
    const { table } = this.deps;
    if (table.waitsForWorkdir(run) && !(await table.untilWorkdirFree(run))) return;
    run.state = 'starting';
    this.deps.runner.record(run);
    this.deps.send({ t: 'starting', ...offerRef(run) });
    // While the hub answers (once the frame is written): what the spawn needs but the run token.
    setImmediate(() => run.state === 'starting' && prepareRun(run));
  }
}
