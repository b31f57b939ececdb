/**
 * One supervisor started ahead of need, so a run does not wait for Node to boot (tens of
 * milliseconds, most of created -> started). The spare waits on its stdin for a run; it is taken
 * by the next run, and the next spare is started once that run's provider is up (not before: the
 * spawn would hold up the run it is meant to speed up). A spare that is never given a run sees
 * its stdin end when the daemon exits or closes the spool (also after `kill -9`), and exits.
 *
 * A spare is spawned before its run's folder exists, so its command line carries a mark of its
 * own instead of that folder; the mark goes on the second line of `supervisor.pid`, which is what
 * `supervisorAlive` checks a pid against.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';

export interface Supervisor {
  child: ChildProcess;
  /** What its command line carries, checked against pid reuse. */
  mark: string;
}

/** Spawns a supervisor of `script`, detached in its own process group; resolves once it runs. */
export async function spawnSupervisor(
  script: string,
  cwd: string,
  mark: string,
): Promise<Supervisor | Error> {
  const child = spawn(process.execPath, [script, mark], {
    cwd,
    // Only what Node needs: the run's own environment goes over stdin.
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  const failed = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (failed || child.pid === undefined) return failed ?? new Error('no process');
  child.unref();
  return { child, mark };
}

export class SpareSupervisor {
  private spare: Promise<Supervisor | Error> | undefined;
  private closed = false;

  constructor(
    private readonly script: string,
    private readonly root: string,
  ) {}

  /**
   * The spare, if one is ready (or starting). The next one is not started here: spawning it forks
   * the daemon (milliseconds of its thread), so the run calls `refill` once its provider is up.
   */
  take(): Promise<Supervisor | Error> | undefined {
    const taken = this.spare;
    this.spare = undefined;
    return taken;
  }

  /** Starts a spare unless one is there (or the spool is closed). */
  refill(): void {
    if (this.closed || this.spare) return;
    this.spare = spawnSupervisor(this.script, this.root, `spare-${randomUUID()}`).then((spare) => {
      // An idle spare must not keep the daemon's event loop alive.
      if (!(spare instanceof Error)) (spare.child.stdin as Socket | null)?.unref();
      return spare;
    });
  }

  /** Ends the waiting spare (its stdin closes, so it exits) and starts no more. */
  close(): void {
    this.closed = true;
    const spare = this.spare;
    this.spare = undefined;
    void spare?.then((s) => {
      if (!(s instanceof Error)) s.child.stdin?.end();
    });
  }
}
