/**
 * The spool: `data/spool/<run>/` (0700) for each run a supervisor keeps going apart from the
 * daemon, with `job.json` (what the run answers: its attempt, hub, agent, provider, offer, the
 * last event number before it spawned), `supervisor.pid` and `output.jsonl` (all 0600); and
 * `alive`, the daemon's heartbeat file that the supervisors watch. A restarted daemon reads the
 * folders back to re-attach; a folder goes once the hub has acknowledged the run's result.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { OfferedAssignment } from '@gantry/protocol';
import { ensurePrivateFolder, writeSecretJson } from '@gantry/protocol/node';
import { SpareSupervisor } from './spare-supervisor.ts';
import { supervisorSource } from './supervisor-source.ts';

/** How often the daemon touches its heartbeat file. */
const heartbeatMs = 500;

/** `job.json`: what a restarted daemon needs to take a spooled run back. */
export interface SpoolJob {
  runId: string;
  /** The hub (its gateway id there) that gave the attempt. */
  hub: string;
  assignmentId: string;
  attempt: number;
  agentId: string;
  provider: string;
  offer: OfferedAssignment;
  /** The last event number emitted before the provider spawned: replayed output numbers on from here. */
  seq: number;
  /** When the run started (ms since the epoch), for what is left of its timeout. */
  startedAt: number;
  workdir: string;
  /** Whether the workdir is the run's own git worktree (committed when it ends). */
  worktree: boolean;
  /** The run token's file (removed when the run ends). */
  tokenFile?: string;
  /** How long the daemon may be gone before the supervisor ends the run (the hub's lease + grace). */
  goneMs: number;
  /** The provider session the run continues, for a protocol that replays its conversation. */
  resumeId?: string;
}

/** What a run spooled through a supervisor needs (`RunRequest.spool`). */
export interface RunSpool {
  runId: string;
  /** The run's folder. */
  dir: string;
  /** The supervisor script. */
  script: string;
  aliveFile: string;
  goneMs: number;
  /** Take back the run spooled in `dir` (after a restart): nothing is spawned. */
  attach: boolean;
  /** Aborted on a handover: reading stops and the run goes on, for the next daemon. */
  leave: AbortSignal;
  /** Writes `job.json` just before the supervisor is spawned. */
  record(): void;
  /** Set once the run went through the spool (providers over stdio do not). */
  used?: boolean;
  /** A supervisor started ahead of the run, when the spool keeps one. */
  spare?: SpareSupervisor;
}

export class Spool {
  readonly aliveFile: string;
  readonly script: string;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly spare: SpareSupervisor;

  constructor(readonly root: string) {
    this.aliveFile = join(root, 'alive');
    this.script = join(root, 'supervisor.cjs');
    this.spare = new SpareSupervisor(this.script, root);
  }

  /** Makes the folder (0700) and writes the supervisor script when it is not the current one. */
  prepare(warn?: (message: string) => void): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    ensurePrivateFolder(this.root, warn);
    const current = existsSync(this.script) ? readFileSync(this.script, 'utf8') : '';
    if (current === supervisorSource) return;
    const temp = `${this.script}.${process.pid}.tmp`;
    writeFileSync(temp, supervisorSource, { mode: 0o600 });
    renameSync(temp, this.script);
  }

  /** When the daemon that owns the folder was last alive (ms), read before this one starts its heartbeat. */
  lastAlive(): number | undefined {
    try {
      return statSync(this.aliveFile).mtimeMs;
    } catch {
      return undefined;
    }
  }

  /** Touches the heartbeat file now and every half second, until `stop`. */
  startHeartbeat(): void {
    const touch = () => {
      const now = new Date();
      try {
        utimesSync(this.aliveFile, now, now);
      } catch {
        writeFileSync(this.aliveFile, '', { mode: 0o600 });
      }
    };
    touch();
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(touch, heartbeatMs);
    this.heartbeat.unref();
  }

  /** Starts a spare supervisor now, so the first run does not wait for Node's start either. */
  startSpare(): void {
    this.spare.refill();
  }

  /** Stops the heartbeat and lets the spare supervisor go. */
  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.spare.close();
  }

  dirOf(runId: string): string {
    return join(this.root, runId.replace(/[^\w.-]/g, '_'));
  }

  /** A run's spool for a new run (`attach` false) or one to take back. */
  forRun(runId: string, goneMs: number, leave: AbortSignal, job: () => SpoolJob, attach = false): RunSpool {
    const dir = this.dirOf(runId);
    return {
      runId,
      dir,
      script: this.script,
      aliveFile: this.aliveFile,
      goneMs,
      attach,
      leave,
      spare: this.spare,
      record: () => {
        // A second spawn of the run (a resume the provider refused) starts its spool afresh.
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeSecretJson(join(dir, 'job.json'), job());
      },
    };
  }

  /** Whether the run was given to a supervisor. */
  supervised(runId: string): boolean {
    return existsSync(join(this.dirOf(runId), 'supervisor.pid'));
  }

  /** The job of a spooled run, or undefined when there is none (or it cannot be read). */
  job(runId: string): SpoolJob | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dirOf(runId), 'job.json'), 'utf8')) as SpoolJob;
    } catch {
      return undefined;
    }
  }

  remove(runId: string): void {
    rmSync(this.dirOf(runId), { recursive: true, force: true });
  }

  /** Removes the folders of runs no hub holds any more whose supervisor has ended. */
  prune(held: Set<string>): void {
    let entries: string[];
    try {
      entries = readdirSync(this.root, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) {
      if ([...held].some((runId) => this.dirOf(runId) === join(this.root, name))) continue;
      const dir = join(this.root, name);
      if (supervisorAlive(dir)) continue;
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * The run's supervisor as the daemon that gave it the run wrote it down: its pid, and the mark its
 * command line carries (the run's folder, or a spare's own mark; older spools have no second line).
 */
function supervisorRecord(dir: string): { pid: number; mark: string } | undefined {
  try {
    const [first = '', second] = readFileSync(join(dir, 'supervisor.pid'), 'utf8').split('\n');
    const pid = Number(first.trim());
    return Number.isInteger(pid) && pid > 0 ? { pid, mark: second?.trim() || dir } : undefined;
  } catch {
    return undefined;
  }
}

export function supervisorPid(dir: string): number | undefined {
  return supervisorRecord(dir)?.pid;
}

/**
 * Whether the run's supervisor still runs: its pid, and on Linux that process is no zombie and
 * carries its mark on its command line (pids are reused).
 */
export function supervisorAlive(dir: string): boolean {
  const record = supervisorRecord(dir);
  if (record === undefined) return false;
  const { pid, mark } = record;
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(mark);
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
