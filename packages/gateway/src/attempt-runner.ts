/**
 * Runs a hub's attempts once the hub said `start`: the provider through `runProvider`, its events
 * numbered into the outbox, the timeout, stopping (cancel, revoke, cut-off, shutdown), and the end.
 * How an attempt ended becomes its `result` frame, and `finishAttempt` records the attempt finished
 * and queues that frame, in one place for every ending (also for runs swept after a restart).
 */
import type { EmitEvent, GatewayFrame, Logger, ResultFrame } from '@gantry/protocol';
import type { Attempt, AttemptHolder } from './attempts.ts';
import { EventSink } from './event-sink.ts';
import { policyOf, type PermissionDesk } from './permissions.ts';
import { processStartTime } from './providers/process-group.ts';
import type { RunOutcome } from './providers/provider.ts';
import { runProvider, type JobContext, type JobIo } from './run-provider.ts';
import type { Spool, SpoolJob } from './spool/run-spool.ts';
import type { GatewayDb } from './state/gateway-db.ts';
import { stoppedResult, type StopReason } from './stop-reasons.ts';

/** An attempt a hub offered, and what its side of the protocol needs. */
export interface HubAttempt extends Attempt {
  /** The hub's offer this run answers (the latest, when the attempt was offered again). */
  offerId?: string;
  /** Whether it already waits for its workdir to ask the hub to start. */
  waiting?: boolean;
  /** The hub's reason for a revoke, for the result. */
  revokedFor?: string;
  /** Settles once a launched run has ended and its result is queued. */
  done?: Promise<void>;
  /** Its events, numbered into the outbox, while it runs. */
  sink?: EventSink;
  /** Its timeout, while it runs. */
  timer?: NodeJS.Timeout;
  /** Its `running` frame: due once it is launched, sent once its provider is up (or it ends first). */
  running?: 'due' | 'sent';
}

/** A run an earlier daemon process spooled, to take back: its job and the last event number written. */
export interface TakenRun {
  job: SpoolJob;
  lastSeq: number;
}

/** The attempt, for frames that name no offer. */
export function attemptRef(run: Attempt) {
  return { assignmentId: run.offer.id, attempt: run.offer.attempt };
}

/** The attempt and the offer it holds, for the answers to an offer. */
export function offerRef(run: HubAttempt) {
  return { ...attemptRef(run), ...(run.offerId ? { offerId: run.offerId } : {}) };
}

/** What the runner needs of its hub session and of the machine. */
export interface RunnerPorts {
  db: GatewayDb;
  job: JobContext;
  /** The session's attempts: a finished or dropped one leaves them. */
  held: AttemptHolder<HubAttempt>;
  permissions: PermissionDesk;
  /** Sends a frame now if connected (frames that must not be lost go through the outbox). */
  send(frame: GatewayFrame): void;
  /** An outbox row just written, for sending at once when it can be. */
  deliver(id: number, frame: string): void;
  /** The outbox's back-pressure (`JobIo.room`). */
  room(): Promise<void> | undefined;
  /** Called before each event a run emits: output read on waking from a freeze comes after a cut-off, not before. */
  beforeOutput(): void;
  /** Where runs are spooled so they outlive the daemon, with the hub's gateway id and lease + grace. */
  spool?: { spool: Spool; hub: string; goneMs(): number; leave: AbortSignal };
  log: Logger;
}

export class AttemptRunner {
  constructor(private readonly ports: RunnerPorts) {}

  /** The hub said `start`: the provider is spawned. */
  launch(run: HubAttempt, taken?: TakenRun): void {
    run.state = 'running';
    this.record(run);
    run.done = this.execute(run, taken).catch((err: unknown) => {
      this.ports.log.error('run failed unexpectedly', {
        assignment: run.offer.id,
        error: (err as Error).message,
      });
    });
  }

  /** Stops a run: before it spawned, it is dropped (or reported cancelled); after, its process group is stopped. */
  halt(run: HubAttempt, reason: StopReason): void {
    if (run.state !== 'running') {
      if (reason === 'cancelled' || reason === 'timed_out')
        return this.finish(run, { how: 'halted', reason });
      this.forget(run);
      return;
    }
    run.reason ??= reason;
    run.abort.abort();
  }

  /**
   * A run never spawned: an accepted offer goes back to the hub's queue by itself; an attempt the
   * hub may have heard `starting` for is reported lost now rather than after its lease.
   */
  drop(run: HubAttempt, message: string): void {
    if (run.state === 'starting') return this.finish(run, { how: 'lost', message });
    this.forget(run);
  }

  /**
   * A handover: the run goes on without this process (its supervisor keeps it going and the next
   * daemon takes it back), so what it emitted so far is written and nothing more is done here.
   */
  leave(run: HubAttempt): void {
    clearTimeout(run.timer);
    run.sink?.flush();
    this.ports.held.remove(run);
  }

  /** Whether the run went through a supervisor (else it runs on this process's pipes). */
  spooled(run: HubAttempt): boolean {
    const spool = this.ports.spool?.spool;
    return spool !== undefined && spool.supervised(run.runId);
  }

  /** Writes where the attempt stands (and its process group once spawned) to gateway.db. */
  record(run: HubAttempt, pid: number | null = null): void {
    this.ports.db.recordAttempt({
      ...refOf(run),
      state: run.state,
      pid,
      pidStart: pid === null ? null : (processStartTime(pid) ?? null),
    });
  }

  private async execute(run: HubAttempt, taken?: TakenRun): Promise<void> {
    const { db, permissions } = this.ports;
    const ref = attemptRef(run);
    const sink = new EventSink(
      db,
      ref.assignmentId,
      ref.attempt,
      (id, frame) => this.ports.deliver(id, frame),
      taken ? { seq: taken.job.seq, skipThrough: taken.lastSeq } : undefined,
    );
    run.sink = sink;
    const startedAt = taken?.job.startedAt ?? Date.now();
    const left = run.offer.timeoutMs - (Date.now() - startedAt);
    const timer = setTimeout(() => this.halt(run, 'timed_out'), Math.max(0, left));
    run.timer = timer;
    // `running` goes out once the provider's process is up: the hub's work on it (which wakes it and
    // its followers) does not take the CPU the spawn needs. A provider that runs in the daemon
    // (Ollama) is up at once.
    run.running = 'due';
    if (run.provider.inDaemon) setImmediate(() => this.announce(run));
    const emit: EmitEvent = (type, data) => {
      this.ports.beforeOutput();
      sink.emit(type, data);
    };
    const outcome = await runProvider(run, this.ports.job, {
      signal: run.abort.signal,
      emit,
      requestPermission: (request) =>
        permissions.ask(ref, policyOf(run.settings), emit, request, run.abort.signal),
      room: () => this.ports.room(),
      onSpawn: (pid) => {
        this.record(run, pid);
        this.announce(run);
      },
      ...this.spoolOf(sink, startedAt, taken),
    });
    clearTimeout(timer);
    // Handed over meanwhile: the next daemon process takes the run back and ends it.
    if (this.ports.spool?.leave.aborted) return;
    sink.flush();
    // Its supervisor gone without its exit status, or stopped for a gateway gone too long.
    if (outcome.error?.code === 'gateway_lost' && !run.reason)
      return this.finish(run, { how: 'lost', message: outcome.error.message });
    this.finish(run, {
      how: 'ran',
      outcome,
      lastSeq: sink.lastSeq,
      ...(run.reason ? { reason: run.reason } : {}),
      ...(run.revokedFor ? { detail: run.revokedFor } : {}),
    });
  }

  private spoolOf(sink: EventSink, startedAt: number, taken?: TakenRun): Pick<JobIo, 'spool'> {
    const spool = this.ports.spool;
    if (!spool) return {};
    return {
      spool: {
        spool: spool.spool,
        hub: spool.hub,
        goneMs: spool.goneMs(),
        leave: spool.leave,
        startedAt,
        seq: () => sink.lastSeq,
        ...(taken ? { attach: taken.job } : {}),
      },
    };
  }

  /** Sends `running` once, when it is due (a run that ends before its provider is up sends it before its result). */
  private announce(run: HubAttempt): void {
    if (run.running !== 'due') return;
    run.running = 'sent';
    this.ports.send({ t: 'running', ...attemptRef(run) });
  }

  /** Lets the attempt go and sends its result (through the outbox). */
  private finish(run: HubAttempt, ending: Ending): void {
    this.announce(run);
    this.ports.held.remove(run);
    const { id, frame } = finishAttempt(this.ports.db, refOf(run), ending);
    this.ports.deliver(id, frame);
  }

  /** Lets an attempt go that the hub requeues by itself: nothing is reported. */
  private forget(run: HubAttempt): void {
    this.ports.held.remove(run);
    this.ports.db.forgetAttempt(run.offer.id, run.offer.attempt);
  }
}

/** The attempt with its agent, for its record and result. */
function refOf(run: Attempt): AttemptRef {
  return { ...attemptRef(run), agentId: run.offer.agentId };
}

/** How an attempt ended. */
export type Ending =
  /** Its provider ran to the end, or until it was stopped for `reason` (`detail`: the hub's reason for a revoke). */
  | { how: 'ran'; outcome: RunOutcome; lastSeq: number; reason?: StopReason; detail?: string }
  /** Cancelled or timed out before its provider was spawned. */
  | { how: 'halted'; reason: 'cancelled' | 'timed_out' }
  /** The gateway could not see it to its end (swept after a restart, dropped after `starting`): the hub retries or fails it. */
  | { how: 'lost'; message: string };

export interface AttemptRef {
  assignmentId: string;
  attempt: number;
  agentId: string;
}

const notSpawned: RunOutcome = { status: 'failed', output: '', exitCode: null };

/** The `result` frame of an ending. */
export function resultOf(ref: AttemptRef, ending: Ending): ResultFrame {
  const attempt = { t: 'result' as const, assignmentId: ref.assignmentId, attempt: ref.attempt };
  switch (ending.how) {
    case 'ran': {
      const { outcome } = ending;
      const stopped = stoppedResult(ending.reason, ending.detail);
      const error = stopped?.error ?? outcome.error;
      return {
        ...attempt,
        status: stopped?.status ?? outcome.status,
        output: outcome.output,
        exitCode: outcome.exitCode,
        ...(error ? { error } : {}),
        lastSeq: ending.lastSeq,
        ...(outcome.details ? { details: outcome.details } : {}),
      };
    }
    case 'halted':
      return resultOf(ref, { how: 'ran', outcome: notSpawned, lastSeq: 0, reason: ending.reason });
    case 'lost':
      return {
        ...attempt,
        status: 'lost',
        output: '',
        exitCode: null,
        error: { code: 'gateway_lost', message: ending.message },
        lastSeq: 0,
      };
  }
}

/**
 * Records the attempt finished (a reconnect's `hello` then names it so) and queues its result
 * behind its events; returns the outbox row for sending at once.
 */
export function finishAttempt(db: GatewayDb, ref: AttemptRef, ending: Ending): { id: number; frame: string } {
  const result = resultOf(ref, ending);
  const frame = JSON.stringify(result);
  const { assignmentId, attempt, lastSeq } = result;
  // Together: a crash in between would leave an attempt `finished` with no result to send.
  const id = db.transaction(() => {
    db.recordAttempt({ ...ref, state: 'finished', pid: null });
    return db.enqueue({ assignmentId, attempt, kind: 'result', lastSeq, frame });
  });
  return { id, frame };
}
