/**
 * The assignment lifecycle (DESIGN §3), free of any transport: every change is a compare-and-set
 * on the store followed by a notice on the bus. The WebSocket and REST layers call these.
 */
import {
  activeStates,
  clip,
  defaultSessionKey,
  durationLimits,
  GantryError,
  isTerminal,
  type AssignmentState,
  type CreateAssignment,
  type Party,
  type ResultDetails,
  type ResultFrame,
  type RunEvent,
} from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import type { Bus } from '../bus.ts';
import { newId } from '../ids.ts';
import type { AssignmentRow, NewEvent, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';

export class Assignments {
  /** The highest seq with no gap before it, per recent attempt (`id#attempt`). */
  private readonly contiguous = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    /** Where lifecycle steps are told to the workspace (`assignment.*` entries). */
    private readonly activity?: Activity,
  ) {}

  async create(caller: Caller, input: CreateAssignment): Promise<AssignmentRow> {
    const agent = await this.store.findAgent(caller.workspaceId, input.agent);
    if (!agent) throw new GantryError('not_found', `no agent named or with id '${input.agent}'`);
    if (agent.kind !== 'managed') {
      throw new GantryError(
        'invalid_request',
        agent.kind === 'service'
          ? `agent '${agent.name}' is a service account: it sends messages but never runs anything`
          : `agent '${agent.name}' is ${agent.kind}: it does not run assignments`,
      );
    }
    const row = await this.store.createAssignment({
      workspaceId: caller.workspaceId,
      agentId: agent.id,
      prompt: input.prompt,
      sessionKey: input.sessionKey ?? defaultSessionKey,
      mode: input.mode ?? 'new',
      resumeFallback: input.resumeFallback ?? 'fail',
      timeoutMs: input.timeoutMs ?? durationLimits.defaultTimeoutMs,
      retries: input.retries ?? 0,
      createdBy: `${caller.kind}:${caller.id}`,
    });
    await this.announce(
      row,
      'assignment.created',
      { state: 'queued', prompt: clip(row.prompt, 200), sessionKey: row.session_key, mode: row.mode },
      caller.kind === 'gateway' ? null : { kind: caller.kind, id: caller.id, name: caller.name },
      agent.name,
    );
    this.changed(row.id);
    this.bus.emit('queued', { assignmentId: row.id, agentId: agent.id });
    return row;
  }

  /** Reads an assignment the caller may see, or throws not_found. */
  async get(caller: Caller, id: string): Promise<AssignmentRow> {
    const row = await this.store.getAssignment(id);
    if (!row || row.workspace_id !== caller.workspaceId || !canSee(caller, row)) {
      throw new GantryError('not_found', `no assignment ${id}`);
    }
    return row;
  }

  /**
   * Cancels: one not yet started ends `cancelled` at once; one that may be running becomes
   * `cancelling` until its gateway reports the process group gone. Returns the row and, when a
   * gateway must act, which one.
   */
  async cancel(caller: Caller, id: string): Promise<{ row: AssignmentRow; notify?: 'revoke' | 'cancel' }> {
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
      if (done) return { row: await this.reload(id), notify: state === 'offered' ? 'revoke' : undefined };
      return this.cancel(caller, id); // it moved on meanwhile: decide again
    }
    if (state === 'cancelling') return { row };
    const moved = await this.store.transition(id, ['starting', 'running'], { state: 'cancelling' });
    if (!moved) return this.cancel(caller, id);
    this.changed(id);
    return { row: await this.reload(id), notify: 'cancel' };
  }

  /** Hands a queued assignment to a gateway under a new offer id (its fencing token), returned. */
  async offer(row: AssignmentRow, gatewayId: string, leaseUntil: number): Promise<string | undefined> {
    const offerId = newId('off');
    const ok = await this.store.transition(
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
    return this.store.transition(
      id,
      ['offered'],
      { lease_expires_at: leaseUntil },
      { gatewayId, attempt, offerId },
    );
  }

  /** Back to the queue (only while the offer named is current): never started, so nothing runs twice. */
  async requeue(id: string, attempt: number, gatewayId?: string, offerId?: string): Promise<boolean> {
    const ok = await this.store.transition(
      id,
      ['offered'],
      { state: 'queued', gateway_id: null, offer_id: null, lease_expires_at: null },
      { attempt, gatewayId, offerId },
    );
    if (ok) await this.announceQueued(id);
    return ok;
  }

  /** The gateway is about to spawn, under the offer it names. Idempotent: a reconnect may ask again. */
  async starting(id: string, attempt: number, gatewayId: string, offerId?: string): Promise<boolean> {
    const ok = await this.store.transition(
      id,
      ['offered'],
      { state: 'starting', started_at: Date.now() },
      { gatewayId, attempt, offerId },
    );
    if (ok) {
      this.changed(id);
      return true;
    }
    const row = await this.store.getAssignment(id);
    const sameOffer = offerId === undefined || row?.offer_id === offerId;
    return !!row && holds(row, gatewayId, attempt) && row.state === 'starting' && sameOffer;
  }

  async running(id: string, attempt: number, gatewayId: string): Promise<void> {
    if (await this.store.transition(id, ['starting'], { state: 'running' }, { gatewayId, attempt })) {
      this.changed(id);
      const row = await this.store.getAssignment(id);
      if (row) await this.announce(row, 'assignment.started', { state: 'running', gatewayId });
    }
  }

  /**
   * Stores a batch of events; returns the seq up to which the hub holds every event. The answer is
   * remembered per attempt, so a batch that simply continues the last one costs no extra query
   * (counting a long run's events on every batch would make it quadratic).
   */
  async appendEvents(id: string, attempt: number, events: RunEvent[]): Promise<number> {
    const rows: NewEvent[] = events.map((e) => ({
      seq: e.seq,
      type: e.type,
      ts: e.ts,
      data: JSON.stringify(e.data),
    }));
    const key = `${id}#${attempt}`;
    const known = this.contiguous.get(key);
    let upTo: number;
    if (known !== undefined && events.length > 0 && events.every((e, i) => e.seq === known + 1 + i)) {
      await this.store.insertEvents(id, attempt, rows);
      upTo = known + events.length;
    } else {
      upTo = await this.store.appendEvents(id, attempt, rows);
    }
    // Delete and set again so the most recent attempts stay last; the oldest go first.
    this.contiguous.delete(key);
    this.contiguous.set(key, upTo);
    if (this.contiguous.size > 10_000) this.contiguous.delete(this.contiguous.keys().next().value as string);
    this.changed(id);
    await this.progressed(id, events, known);
    return upTo;
  }

  /**
   * A gateway's result for an attempt it holds. Returns false for a result the hub no longer
   * expects (another attempt, or already ended); the caller still acks it so it is not resent.
   */
  async complete(frame: ResultFrame, gatewayId: string): Promise<boolean> {
    const row = await this.store.getAssignment(frame.assignmentId);
    if (!row || !holds(row, gatewayId, frame.attempt)) return false;
    if (frame.status === 'lost') {
      return (await this.lose(row, frame.error?.message ?? 'the gateway lost the run')) !== 'moved';
    }
    // Only a person's cancel ends an assignment `cancelled`: a run stopped without one (an older
    // gateway answering a revoke that way) was lost, and is retried as such.
    if (frame.status === 'cancelled' && row.state !== 'cancelling') {
      const reason = 'the gateway stopped the run though nobody cancelled it';
      return (await this.lose(row, reason)) !== 'moved';
    }
    const error = frame.error ?? defaultError(frame.status);
    return this.finish(row, activeStates, {
      state: frame.status as AssignmentState,
      output: frame.output,
      exitCode: frame.exitCode,
      details: frame.details,
      error,
    });
  }

  /**
   * An attempt that may have started is lost with its gateway: it runs again as a new attempt
   * when the assignment allows retries, else the assignment fails `gateway_lost`.
   */
  async lose(row: AssignmentRow, reason: string): Promise<'requeued' | 'failed' | 'cancelled' | 'moved'> {
    if (row.state === 'offered') return (await this.requeue(row.id, row.attempt)) ? 'requeued' : 'moved';
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
      const ok = await this.store.transition(
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
      await this.store.expireApprovals(row.id, row.attempt);
      await this.announceQueued(row.id);
      return 'requeued';
    }
    const ok = await this.finish(row, ['starting', 'running'], {
      state: 'failed',
      error: { code: 'gateway_lost', message: `attempt ${row.attempt} was lost: ${reason}` },
    });
    return ok ? 'failed' : 'moved';
  }

  /** A queued assignment nobody picked up in time. */
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
    const ok = await this.store.transition(
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
    // Nobody can answer the attempt's open permission requests any more.
    await this.store.expireApprovals(row.id, row.attempt);
    this.changed(row.id);
    await this.announce(row, 'assignment.finished', {
      state: end.state,
      error: end.error ?? null,
      output: end.output === undefined ? null : clip(end.output, 500),
      exitCode: end.exitCode ?? null,
    });
    return true;
  }

  /**
   * A batch's newest provider `status` becomes one `assignment.progress` entry. The events path
   * is hot: this only compares types, and reads the store only for a batch that has a new status.
   */
  private async progressed(id: string, events: RunEvent[], known: number | undefined): Promise<void> {
    if (!this.activity) return;
    let status: RunEvent | undefined;
    for (let i = events.length - 1; i >= 0 && !status; i--) {
      if (events[i]?.type === 'status') status = events[i];
    }
    // A replayed batch (seqs the hub already had) is not news.
    if (!status || (known !== undefined && status.seq <= known)) return;
    const row = await this.store.getAssignment(id);
    if (!row) return;
    const { message, progress } = status.data;
    await this.announce(row, 'assignment.progress', {
      state: row.state,
      message: typeof message === 'string' ? clip(message, 500) : '',
      ...(typeof progress === 'number' ? { progress } : {}),
      seq: status.seq,
    });
  }

  /**
   * Appends an `assignment.*` entry to the workspace's activity log: by default the agent is the
   * actor, and every entry names the assignment, its agent and attempt.
   */
  private async announce(
    row: AssignmentRow,
    type: string,
    data: Record<string, unknown>,
    actor?: Party | null,
    agentName?: string,
  ): Promise<void> {
    if (!this.activity) return;
    const name = agentName ?? (await this.store.getAgent(row.agent_id))?.name ?? row.agent_id;
    const agent = { id: row.agent_id, name };
    await this.activity.append({
      workspaceId: row.workspace_id,
      type,
      actor: actor === undefined ? { kind: 'agent', ...agent } : actor,
      subject: row.id,
      data: { assignmentId: row.id, agent, attempt: row.attempt, ...data },
    });
  }

  private async announceQueued(id: string): Promise<void> {
    const row = await this.reload(id);
    this.changed(id);
    this.bus.emit('queued', { assignmentId: id, agentId: row.agent_id });
  }

  private async reload(id: string): Promise<AssignmentRow> {
    const row = await this.store.getAssignment(id);
    if (!row) throw new GantryError('not_found', `no assignment ${id}`);
    return row;
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

function canSee(caller: Caller, row: AssignmentRow): boolean {
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
