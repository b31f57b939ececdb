/**
 * The attempt table: every attempt this machine holds, whoever asked for it (a hub session or the
 * local API). Slots are the machine's, so the table counts them across its holders: at most
 * `concurrency` at once, one per agent unless the agent's binding runs in parallel, and one at a
 * time per workdir (an attempt waits here for its workdir to be free).
 */
import { EventEmitter, once } from 'node:events';
import type { Job } from './run-provider.ts';
import type { StopReason } from './stop-reasons.ts';

/** accept -> (the hub's claim) -> starting -> (the hub's start) -> running; local runs skip the hub. */
export type AttemptState = 'accepted' | 'starting' | 'running';

/** One attempt: the job it runs (its `runId` is its key in the table) and where it stands. */
export interface Attempt extends Job {
  /** Whether other runs may use the workdir at the same time. */
  parallel: boolean;
  state: AttemptState;
  abort: AbortController;
  /** Why it was stopped, once it was. */
  reason?: StopReason;
}

/** A served agent as capacity counts it. */
export interface SlotAgent {
  agentId: string;
  provider: string;
  /** Whether its binding lets its runs go at the same time. */
  parallel: boolean;
}

export class AttemptTable {
  private readonly attempts = new Set<Attempt>();
  private readonly freed = new EventEmitter();
  private closing = false;

  constructor(readonly concurrency: number) {
    this.freed.setMaxListeners(0);
  }

  /** A holder's own attempts (one hub session's, or the local API's), counted in the machine's slots. */
  holder<T extends Attempt>(): AttemptHolder<T> {
    return new AttemptHolder<T>(
      (attempt) => this.attempts.add(attempt),
      (attempt) => {
        this.attempts.delete(attempt);
        this.freed.emit('freed');
      },
    );
  }

  get size(): number {
    return this.attempts.size;
  }

  /** Every attempt held, in the order they came. */
  list(): Attempt[] {
    return [...this.attempts];
  }

  /** The daemon is stopping: no agent gets a slot any more. */
  close(): void {
    this.closing = true;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Whether one more attempt fits on this machine. */
  hasRoom(): boolean {
    return this.attempts.size < this.concurrency;
  }

  /** One run at a time per agent, unless its binding allows parallel runs. */
  agentSlots(agentId: string, parallel: boolean): number {
    const free = this.concurrency - this.attempts.size;
    if (free <= 0 || this.closing) return 0;
    if (parallel) return free;
    return this.list().some((attempt) => attempt.offer.agentId === agentId) ? 0 : 1;
  }

  /** The free slots a hub is told of: the machine's, and each of its agents'. */
  capacity(agents: SlotAgent[]) {
    return {
      slots: Math.max(0, this.concurrency - this.attempts.size),
      agents: agents.map((agent) => ({
        agentId: agent.agentId,
        provider: agent.provider,
        slots: this.agentSlots(agent.agentId, agent.parallel),
      })),
    };
  }

  /**
   * Whether the attempt must wait for its workdir: another attempt that has started (or is about
   * to) uses it, and this one's binding does not run in parallel.
   */
  waitsForWorkdir(attempt: Attempt): boolean {
    return (
      !attempt.parallel &&
      this.list().some(
        (other) =>
          other !== attempt &&
          other.workdir === attempt.workdir &&
          (other.state === 'starting' || other.state === 'running'),
      )
    );
  }

  /**
   * Waits until the attempt need not wait for its workdir any more. False when it was let go or
   * stopped meanwhile: it must not start then.
   */
  async untilWorkdirFree(attempt: Attempt): Promise<boolean> {
    const goesOn = () => this.attempts.has(attempt) && !attempt.abort.signal.aborted;
    while (goesOn() && this.waitsForWorkdir(attempt)) {
      await once(this.freed, 'freed', { signal: attempt.abort.signal }).catch(() => undefined);
    }
    return goesOn();
  }
}

/** The attempts of one holder, by run id; adding and removing them takes and frees the table's slots. */
export class AttemptHolder<T extends Attempt> {
  private readonly held = new Map<string, T>();

  constructor(
    private readonly enter: (attempt: T) => void,
    private readonly leave: (attempt: T) => void,
  ) {}

  add(attempt: T): void {
    this.held.set(attempt.runId, attempt);
    this.enter(attempt);
  }

  /** Lets the attempt go (if it is still the one held under its run id), freeing its slot and workdir. */
  remove(attempt: T): void {
    if (this.held.get(attempt.runId) !== attempt) return;
    this.held.delete(attempt.runId);
    this.leave(attempt);
  }

  get(runId: string): T | undefined {
    return this.held.get(runId);
  }

  has(attempt: T): boolean {
    return this.held.get(attempt.runId) === attempt;
  }

  list(): T[] {
    return [...this.held.values()];
  }
}

/** A hub attempt's run id: its key here, and the marker every process of its run carries. */
export function runIdOf(ref: { assignmentId: string; attempt: number }): string {
  return `${ref.assignmentId}#${ref.attempt}`;
}
