/**
 * The local API's runs: an agent run on this machine without the hub. Each takes one of the
 * machine's slots like a hub attempt (the hub hears of it at once), follows the same workdir rule,
 * and is kept in the run history. Its permission requests are answered by the policy alone.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  GantryError,
  withAssignmentDefaults,
  type EmitEvent,
  type LocalRunInput,
  type LocalRunResult,
  type OfferedAssignment,
  type RunEvent,
} from '@gantry/protocol';
import type { Attempt, AttemptHolder, AttemptTable } from './attempts.ts';
import type { Placement } from './new-attempt.ts';
import { decideByPolicy, policyOf } from './permissions.ts';
import type { RunOutcome } from './providers/provider.ts';
import { runProvider, type JobContext } from './run-provider.ts';
import type { GatewaySession } from './session-file.ts';
import { stoppedResult, type StopReason } from './stop-reasons.ts';

interface LocalRun extends Attempt {
  /** Settles once the run is over and recorded. */
  done: Promise<void>;
}

export interface LocalRunOptions {
  onStart?: (id: string, workdir: string) => void;
  onEvent?: (event: RunEvent) => void;
  /** Aborted when the caller gives up: the run is stopped as cancelled. */
  signal?: AbortSignal;
}

export interface LocalRunsDeps {
  table: AttemptTable;
  job: JobContext;
  session: () => GatewaySession;
  newAttempt: (offer: OfferedAssignment, placement: Placement) => Attempt;
  /** A run took or freed a slot: the hub is told. */
  onSlotsChanged: () => void;
}

const notStarted: RunOutcome = { status: 'failed', output: '', exitCode: null };

export class LocalRuns {
  private readonly runs: AttemptHolder<LocalRun>;

  constructor(private readonly deps: LocalRunsDeps) {
    this.runs = deps.table.holder<LocalRun>();
  }

  async run(input: LocalRunInput, options: LocalRunOptions = {}): Promise<LocalRunResult> {
    const { table } = this.deps;
    if (table.closed) throw new GantryError('unavailable', 'the gateway is stopping');
    const agents = this.deps.session().agents;
    const agent = agents.find((a) => a.id === input.agentId || a.name === input.agentId);
    if (!agent) {
      const served = agents.map((a) => a.name).join(', ');
      throw new GantryError(
        'not_found',
        `this gateway does not serve '${input.agentId}' (it serves: ${served})`,
      );
    }
    if (!table.hasRoom()) {
      throw new GantryError(
        'unavailable',
        `no free slot: this gateway runs at most ${table.concurrency} at once`,
      );
    }
    const workdir = input.workspace ? resolve(input.workspace) : undefined;
    if (workdir && !isDirectory(workdir)) {
      throw new GantryError('invalid_request', `${workdir} is not a folder`);
    }
    // A local run is never retried: it has no `retries`.
    const { retries: _retries, ...defaulted } = withAssignmentDefaults(input);
    const id = `run_${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
    const offer: OfferedAssignment = {
      id,
      attempt: 1,
      agentId: agent.id,
      agentName: agent.name,
      prompt: input.prompt,
      ...defaulted,
    };
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const run: LocalRun = {
      ...this.deps.newAttempt(offer, { runId: `local:${id}`, ...(workdir ? { workdir } : {}) }),
      done,
    };
    this.runs.add(run);
    this.deps.onSlotsChanged();
    const cancel = () => this.halt(run, 'cancelled');
    options.signal?.addEventListener('abort', cancel, { once: true });
    const timer = setTimeout(() => this.halt(run, 'timed_out'), offer.timeoutMs);
    try {
      return await this.execute(run, options);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', cancel);
      this.runs.remove(run);
      this.deps.onSlotsChanged();
      finish();
    }
  }

  get(id: string): LocalRunResult | undefined {
    return this.deps.job.db.localRun(id);
  }

  /** Stops every local run (each recorded as stopped) and waits for them. */
  async stop(): Promise<void> {
    const runs = this.runs.list();
    for (const run of runs) this.halt(run, 'stopping');
    await Promise.all(runs.map((run) => run.done));
  }

  private async execute(run: LocalRun, options: LocalRunOptions): Promise<LocalRunResult> {
    const { table } = this.deps;
    const { offer } = run;
    const startedAt = new Date().toISOString();
    if (table.waitsForWorkdir(run)) await table.untilWorkdirFree(run);
    run.state = 'running';
    options.onStart?.(offer.id, run.workdir);
    const events: RunEvent[] = [];
    const emit: EmitEvent = (type, data) => {
      const event = { seq: events.length + 1, type, ts: new Date().toISOString(), data };
      events.push(event);
      options.onEvent?.(event);
    };
    const outcome = run.abort.signal.aborted
      ? notStarted
      : await runProvider(run, this.deps.job, {
          signal: run.abort.signal,
          emit,
          requestPermission: async (request) => decideByPolicy(policyOf(run.settings), emit, request),
          room: () => undefined,
        });
    const stopped = stoppedResult(run.reason);
    const record: LocalRunResult = {
      id: offer.id,
      agent: { id: offer.agentId, name: offer.agentName },
      sessionKey: offer.sessionKey,
      mode: offer.mode,
      workdir: run.workdir,
      status: stopped ? (stopped.status === 'lost' ? 'failed' : stopped.status) : outcome.status,
      output: outcome.output,
      exitCode: outcome.exitCode,
      error: stopped?.error ?? outcome.error ?? null,
      ...(outcome.details ? { details: outcome.details } : {}),
      startedAt,
      finishedAt: new Date().toISOString(),
      events,
    };
    this.deps.job.db.saveLocalRun(record);
    return record;
  }

  /** Stops the run: aborting it also ends its wait for the workdir, if it still waits. */
  private halt(run: LocalRun, reason: StopReason): void {
    run.reason ??= reason;
    run.abort.abort();
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
