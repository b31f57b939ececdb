/**
 * What a hub's attempts became while no daemon process served them (a crash, `gateway restart`,
 * an upgrade): one never started is forgotten (the hub requeues it); one running is taken back
 * when its supervisor spooled it and the daemon was gone no longer than the hub's lease and grace
 * (its output is replayed from the spool: events the hub has are not sent again, and a run that
 * ended meanwhile delivers its result now). Any other is stopped (its group only if its leader is
 * still the process recorded, then anything carrying the run's marker) and reported `lost`, after
 * the events it had written, so the hub retries or fails it and nothing is left unaccounted.
 */
import type { Logger, OfferedAssignment } from '@gantry/protocol';
import { finishAttempt, type AttemptRunner, type HubAttempt } from './attempt-runner.ts';
import { runIdOf, type Attempt, type AttemptHolder } from './attempts.ts';
import { stopRun, type StopGraces } from './providers/process-group.ts';
import { savedRunToken } from './run-provider.ts';
import type { Spool } from './spool/run-spool.ts';
import type { GatewayDb } from './state/gateway-db.ts';

export interface Recovery {
  db: GatewayDb;
  spool: Spool;
  /** When the previous daemon process was last alive (its heartbeat file), if ever. */
  lastAlive: number | undefined;
  held: AttemptHolder<HubAttempt>;
  runner: AttemptRunner;
  newAttempt(offer: OfferedAssignment): Attempt;
  graces: StopGraces;
  log: Logger;
}

export async function recoverRuns(recovery: Recovery): Promise<void> {
  const { db, spool, lastAlive, log } = recovery;
  for (const record of db.attempts()) {
    if (record.state === 'finished') continue; // its result waits in the outbox
    if (record.state !== 'running') {
      db.forgetAttempt(record.assignmentId, record.attempt);
      continue;
    }
    const runId = runIdOf(record);
    const saved = spool.job(runId);
    const goneMs = lastAlive === undefined ? Infinity : Date.now() - lastAlive;
    if (saved && goneMs <= saved.goneMs) {
      const run = takeBack(recovery, saved.offer);
      if (run) {
        const token = savedRunToken(saved);
        if (token) run.runToken = token;
        recovery.held.add(run);
        recovery.runner.launch(run, { job: saved, lastSeq: record.lastSeq ?? 0 });
        log.info('took back a run an earlier gateway process left running', {
          assignment: record.assignmentId,
          attempt: record.attempt,
        });
        continue;
      }
    }
    await stopRun(
      { ...(record.pid ? { pgid: record.pid } : {}), startTime: record.pidStart ?? null, runId },
      recovery.graces,
    );
    spool.remove(runId);
    log.warn('stopped a run left by an earlier gateway process', {
      assignment: record.assignmentId,
      ...(saved ? { reason: 'the gateway was gone past the lease and grace' } : {}),
    });
    finishAttempt(db, record, {
      how: 'lost',
      message: saved
        ? 'the gateway was gone past the lease and grace while this attempt ran'
        : 'the gateway restarted while this attempt ran',
    });
  }
}

/** The attempt again, as its agent's binding makes it now; undefined when the agent is no longer served. */
function takeBack(recovery: Recovery, offer: OfferedAssignment): HubAttempt | undefined {
  try {
    return recovery.newAttempt(offer);
  } catch (err) {
    recovery.log.warn('could not take back a run: its agent is no longer served here', {
      assignment: offer.id,
      error: (err as Error).message,
    });
    return undefined;
  }
}
