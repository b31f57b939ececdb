/**
 * The assignment lifecycle (DESIGN §3), free of any transport: every change is a compare-and-set
 * on the store followed by a notice on the bus. A step that takes an attempt from its gateway
 * tells that gateway itself (`cancel` or `revoke`, through the port). The WebSocket and REST
 * layers call these.
 */
import {
  activeStates,
  GantryError,
  isTerminal,
  withAssignmentDefaults,
  type AssignmentState,
  type CreateAssignment,
  type ResultDetails,
  type ResultFrame,
  type RunEvent,
} from '@gantry/protocol';
import type { Actor } from './actor.ts';
import { revokeRunTokens } from '../auth/run-tokens.ts';
import type { Bus } from '../bus.ts';
import { newId } from '../ids.ts';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import { runnableAgent } from './agents.ts';
import { AssignmentNews } from './assignment-news.ts';
import type { ChainLimits } from './chain-limits.ts';
import { placeRun, recordRoot, type ChainRef } from './chains.ts';
import { RunEventLog } from './run-events.ts';
import type { GatewayPort } from './gateway-port.ts';

/** An assignment's row, when a step applied to it. */
type Row = AssignmentRow | undefined;

export class Assignments {
  readonly runEvents: RunEventLog;
  /** Where lifecycle steps are told to the workspace (`assignment.*` entries). */
  private readonly news: AssignmentNews;

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    /** Where the gateway holding an attempt is told to stop it. */
    private readonly gateways: GatewayPort,
    activity?: Activity,
    /** A run's own requests stay within its chain's limits. */
    private readonly limits?: ChainLimits,
  ) {
    this.news = new AssignmentNews(store, activity);
    this.runEvents = new RunEventLog(store);
  }

  /**
   * A new assignment. `step` is where the run sits in its chain when the hub starts it for a
   * trigger; otherwise a run's request is one deeper in the run's chain, and anyone else's starts
   * a chain of its own. `asId` fixes its id (an `Idempotency-Key`'s): if that exists, it is the answer.
   */
  async create(caller: Actor, input: CreateAssignment, step?: ChainRef, asId?: string) {
    const agent = await runnableAgent(this.store, caller.workspaceId, input.agent);
    const id = asId ?? newId('asg');
    const { chain, root } = placeRun(caller, id, step, input.chainMaxRuns);
    if (!step && caller.run && this.limits) await this.limits.refuse(caller, chain, agent);
    const by = caller.kind === 'gateway' ? null : { kind: caller.kind, id: caller.id, name: caller.name };
    // The chain's root, the row and its entry: one transaction (one commit on the way to the offer).
    const { row, entry } = await this.store.transaction(async (tx) => {
      if (root) await recordRoot(tx, root);
      const made = await tx.assignments.createIfAbsent({
        id,
        chainId: chain.chainId,
        depth: chain.depth,
        causeId: chain.cause ?? null,
        workspaceId: caller.workspaceId,
        agentId: agent.id,
        prompt: input.prompt,
        ...withAssignmentDefaults(input),
        createdBy: `${caller.kind}:${caller.id}`,
      });
      return { row: made, entry: made && (await this.news.created(tx, made, by, agent.name)) };
    });
    if (!row) return this.reload(id); // made meanwhile, under the same key
    this.news.published(entry);
    this.changed(row.id);
    this.bus.emit('queued', { assignmentId: row.id, agentId: agent.id });
    return row;
  }

  /** Reads an assignment the caller may see, or throws not_found. */
  async get(caller: Actor, id: string): Promise<AssignmentRow> {
    const row = await this.store.assignments.get(id);
    if (!row || row.workspace_id !== caller.workspaceId || !canSee(caller, row)) {
      throw new GantryError('not_found', `no assignment ${id}`);
    }
    return row;
  }

  /**
   * Cancels: one not yet started ends `cancelled` at once (an open offer is revoked); one that may
   * be running becomes `cancelling`, and its gateway is told to stop it, until it reports the
   * process group gone.
   */
  async cancel(caller: Actor, id: string): Promise<AssignmentRow> {
    const row = await this.get(caller, id);
    const state = row.state as AssignmentState;
    if (isTerminal(state)) {
      throw new GantryError('conflict', `assignment ${id} already ended ${state}`, { details: { state } });
    }
    if (state === 'queued' || state === 'offered') {
      const done = await this.finish(row, ['queued', 'offered'], {
        state: 'cancelled',
        error: { code: 'cancelled', message: `cancelled by ${caller.name}` },
      });
      if (!done) return this.cancel(caller, id); // it moved on meanwhile: decide again
      const ended = await this.reload(id);
      // A queued row names no gateway; one still named holds the offer it made.
      if (ended.gateway_id) this.revoke(ended.gateway_id, ended, 'cancelled');
      return ended;
    }
    if (state === 'cancelling') return row;
    const moved = await this.store.assignments.transition(id, ['starting', 'running'], {
      state: 'cancelling',
    });
    if (!moved) return this.cancel(caller, id);
    this.changed(id);
    const cancelling = await this.reload(id);
    const ref = { assignmentId: id, attempt: cancelling.attempt };
    if (cancelling.gateway_id)
      this.gateways.send(cancelling.gateway_id, { t: 'cancel', ...ref, reason: 'cancelled' });
    return cancelling;
  }

  /** Hands a queued assignment to a gateway under a new offer id (its fencing token), returned. */
  async offer(row: AssignmentRow, gatewayId: string, leaseUntil: number): Promise<string | undefined> {
    const offerId = newId('off');
    const ok = await this.store.assignments.transition(
      row.id,
      ['queued'],
      { state: 'offered', gateway_id: gatewayId, offer_id: offerId, lease_expires_at: leaseUntil },
      { attempt: row.attempt },
    );
    if (!ok) return undefined;
    this.changed(row.id);
    return offerId;
  }

  /** The gateway accepted: its claim stands while the offer it names is still its own. */
  claim(id: string, attempt: number, gatewayId: string, offerId: string | undefined, leaseUntil: number) {
    return this.store.assignments.transition(
      id,
      ['offered'],
      { lease_expires_at: leaseUntil },
      { gatewayId, attempt, offerId },
    );
  }

  /**
   * Back to the queue (only while the offer named is current): never started, so nothing runs
   * twice. With `revoke` (the hub's reason) the gateway is told, naming the offer withdrawn, so
   * a later offer of the same attempt is not touched; without, the gateway gave it up itself.
   */
  async requeue(
    id: string,
    attempt: number,
    gatewayId?: string,
    offerId?: string,
    revoke?: string,
  ): Promise<boolean> {
    const held = revoke === undefined ? undefined : await this.store.assignments.get(id);
    const ok = await this.store.assignments.transition(
      id,
      ['offered'],
      { state: 'queued', gateway_id: null, offer_id: null, lease_expires_at: null },
      { attempt, gatewayId, offerId },
    );
    if (!ok) return false;
    if (held?.gateway_id && revoke !== undefined) {
      this.revoke(held.gateway_id, { id, attempt }, revoke, offerId ?? held.offer_id ?? undefined);
    }
    await this.announceQueued(id);
    return true;
  }

  /**
   * The gateway is about to spawn, under the offer it names: the row, now `starting`, or undefined
   * when the attempt is not this gateway's to start. Idempotent: a reconnect may ask again.
   */
  async starting(id: string, attempt: number, gatewayId: string, offerId?: string): Promise<Row> {
    const guard = { gatewayId, attempt, offerId };
    const patch = { state: 'starting', started_at: Date.now() } as const;
    const moved = await this.store.assignments.transitionRow(id, ['offered'], patch, guard);
    if (moved) {
      this.changed(id);
      return moved;
    }
    const row = await this.store.assignments.get(id);
    const sameOffer = offerId === undefined || row?.offer_id === offerId;
    return row && holds(row, gatewayId, attempt) && row.state === 'starting' && sameOffer ? row : undefined;
  }

  async running(id: string, attempt: number, gatewayId: string): Promise<void> {
    const guard = { gatewayId, attempt };
    const row = await this.store.assignments.transitionRow(id, ['starting'], { state: 'running' }, guard);
    if (!row) return;
    this.changed(id);
    await this.news.started(row, gatewayId);
  }

  /** Stores a batch of events; returns the seq up to which the hub holds every event. */
  async appendEvents(id: string, attempt: number, events: RunEvent[]): Promise<number> {
    const { upTo, known } = await this.runEvents.append(id, attempt, events);
    this.changed(id);
    await this.news.progressed(id, events, known);
    return upTo;
  }

  /**
   * A gateway's result for an attempt it holds: the row it ended (as it was before), or undefined
   * for a result the hub no longer expects (another attempt, or already ended); the caller still
   * acks it so it is not resent.
   */
  async complete(frame: ResultFrame, gatewayId: string): Promise<Row> {
    const row = await this.store.assignments.get(frame.assignmentId);
    if (!row || !holds(row, gatewayId, frame.attempt)) return undefined;
    const ended = (outcome: string | boolean) => (outcome !== 'moved' && outcome !== false ? row : undefined);
    if (frame.status === 'lost')
      return ended(await this.lose(row, frame.error?.message ?? 'the gateway lost the run'));
    // Only a person's cancel ends an assignment `cancelled`: a run stopped without one (an older
    // gateway answering a revoke that way) was lost, and is retried as such.
    if (frame.status === 'cancelled' && row.state !== 'cancelling')
      return ended(await this.lose(row, 'the gateway stopped the run though nobody cancelled it'));
    const error = frame.error ?? defaultError(frame.status);
    return ended(
      await this.finish(row, activeStates, {
        state: frame.status as AssignmentState,
        output: frame.output,
        exitCode: frame.exitCode,
        details: frame.details,
        error,
      }),
    );
  }

  /**
   * An attempt that may have started is lost with its gateway: it runs again as a new attempt
   * when the assignment allows retries, else the assignment fails `gateway_lost`. With `revoke`
   * (the hub's reason) the gateway is told to stop it; without, it said itself it has no run.
   */
  async lose(
    row: AssignmentRow,
    reason: string,
    revoke?: string,
  ): Promise<'requeued' | 'failed' | 'cancelled' | 'moved'> {
    if (row.state === 'offered') {
      const ok = await this.requeue(row.id, row.attempt, undefined, row.offer_id ?? undefined, revoke);
      return ok ? 'requeued' : 'moved';
    }
    const outcome = await this.drop(row, reason);
    if (outcome !== 'moved' && revoke !== undefined && row.gateway_id) {
      this.revoke(row.gateway_id, row, revoke);
    }
    return outcome;
  }

  /** `lose` for an attempt that may have started: retried, failed, or (when cancelling) cancelled. */
  private async drop(
    row: AssignmentRow,
    reason: string,
  ): Promise<'requeued' | 'failed' | 'cancelled' | 'moved'> {
    if (row.state === 'cancelling') {
      const ok = await this.finish(row, ['cancelling'], {
        state: 'cancelled',
        error: {
          code: 'cancelled',
          message: `cancelled; the gateway was lost before it confirmed (${reason})`,
        },
      });
      return ok ? 'cancelled' : 'moved';
    }
    if (row.attempt <= row.retries) {
      const ok = await this.store.assignments.transition(
        row.id,
        ['starting', 'running'],
        {
          state: 'queued',
          attempt: row.attempt + 1,
          gateway_id: null,
          offer_id: null,
          lease_expires_at: null,
        },
        { attempt: row.attempt },
      );
      if (!ok) return 'moved';
      await this.store.approvals.expire(row.id, row.attempt);
      await revokeRunTokens(this.store, this.bus, row.id);
      await this.announceQueued(row.id);
      return 'requeued';
    }
    const ok = await this.finish(row, ['starting', 'running'], {
      state: 'failed',
      error: { code: 'gateway_lost', message: `attempt ${row.attempt} was lost: ${reason}` },
    });
    return ok ? 'failed' : 'moved';
  }

  /** A queued assignment nobody picked up in time (no gateway holds it: nobody is told). */
  expire(row: AssignmentRow, ttlMs: number): Promise<boolean> {
    const hours = ttlMs >= 3_600_000 ? `${Math.round(ttlMs / 3_600_000)}h` : `${Math.round(ttlMs / 1000)}s`;
    return this.finish(row, ['queued'], {
      state: 'expired',
      error: { code: 'expired', message: `no gateway serving this agent picked it up within ${hours}` },
    });
  }

  private async finish(
    row: AssignmentRow,
    from: readonly AssignmentState[],
    end: {
      state: AssignmentState;
      output?: string;
      exitCode?: number | null;
      details?: ResultDetails;
      error?: { code: string; message: string };
    },
  ): Promise<boolean> {
    const ok = await this.store.assignments.transition(
      row.id,
      from,
      {
        state: end.state,
        finished_at: Date.now(),
        lease_expires_at: null,
        result_output: end.output ?? null,
        result_exit_code: end.exitCode ?? null,
        result_details: end.details ? JSON.stringify(end.details) : null,
        error_code: end.error?.code ?? null,
        error_message: end.error?.message ?? null,
      },
      { attempt: row.attempt },
    );
    if (!ok) return false;
    // Nobody can answer the attempt's open permission requests any more, and its token is dead.
    await this.store.approvals.expire(row.id, row.attempt);
    await revokeRunTokens(this.store, this.bus, row.id);
    this.changed(row.id);
    await this.news.finished(row, end);
    return true;
  }

  private async announceQueued(id: string): Promise<void> {
    const row = await this.reload(id);
    this.changed(id);
    this.bus.emit('queued', { assignmentId: id, agentId: row.agent_id });
  }

  private async reload(id: string): Promise<AssignmentRow> {
    const row = await this.store.assignments.get(id);
    if (!row) throw new GantryError('not_found', `no assignment ${id}`);
    return row;
  }

  /** Tells a gateway the attempt is no longer its own (an offer by name, when given): it stops it as lost. */
  private revoke(gatewayId: string, row: { id: string; attempt: number }, reason: string, offerId?: string) {
    const offer = offerId ? { offerId } : {};
    this.gateways.send(gatewayId, {
      t: 'revoke',
      assignmentId: row.id,
      attempt: row.attempt,
      ...offer,
      reason,
    });
  }

  private changed(assignmentId: string): void {
    this.bus.emit('assignment', { assignmentId });
  }
}

/** Whether the hub gives this attempt to that gateway now (under whatever offer). */
export function holds(row: AssignmentRow, gatewayId: string, attempt: number): boolean {
  return row.gateway_id === gatewayId && row.attempt === attempt && heldStates.has(row.state);
}

const heldStates = new Set(['offered', 'starting', 'running', 'cancelling']);

function canSee(caller: Actor, row: AssignmentRow): boolean {
  if (caller.kind === 'user') return true;
  if (caller.kind === 'agent') return row.agent_id === caller.id || row.created_by === `agent:${caller.id}`;
  return row.gateway_id === caller.id;
}

function defaultError(
  status: Exclude<ResultFrame['status'], 'lost'>,
): { code: string; message: string } | undefined {
  if (status === 'cancelled') return { code: 'cancelled', message: 'cancelled' };
  if (status === 'timed_out') return { code: 'timed_out', message: 'the run exceeded its timeout' };
  if (status === 'failed') return { code: 'provider_failed', message: 'the provider failed' };
  return undefined;
}
