/**
 * Runs a command in its own process group, stdin closed, and stops a run completely: its group
 * with SIGINT, then SIGTERM after a grace, then SIGKILL (DESIGN §3, §9); then any process that left
 * the group (`setsid`) but still carries the run's marker (`GANTRY_RUN_ID` in its environment).
 * Stopping resolves only once nothing of the run is left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface StopGraces {
  /** After SIGINT, before SIGTERM. */
  interruptMs: number;
  /** After SIGTERM, before SIGKILL. */
  terminateMs: number;
}

export const defaultStopGraces: StopGraces = { interruptMs: 5_000, terminateMs: 5_000 };

/** The environment variable that marks every process of a run, for finding those that leave its group. */
export const runMarker = 'GANTRY_RUN_ID';

export function spawnGroup(
  bin: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; stdin?: 'ignore' | 'pipe' },
): ChildProcess {
  return spawn(bin, args, {
    cwd: options.cwd,
    env: options.env,
    // Stdin stays closed unless the protocol runs over it (ACP): CLIs wait for EOF on an open pipe.
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  startTime: string;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp ... starttime is field 22; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0] ?? '', pgrp: Number(fields[2]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

const hasProc = process.platform === 'linux';

function procPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

/** When the process started, or undefined where that cannot be read (not Linux, or gone). */
export function processStartTime(pid: number): string | undefined {
  return hasProc ? procStat(pid)?.startTime : undefined;
}

/**
 * Whether any process of the group still runs. A signal test alone counts zombies, which linger
 * until a reaper gets to them (slowly, or never in a container without an init), so on Linux the
 * group's members are read from /proc and zombies are not counted.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!hasProc) return true;
  return procPids().some((pid) => {
    const stat = procStat(pid);
    return stat?.pgrp === pgid && stat.state !== 'Z';
  });
}

/** Running processes (not zombies) whose environment carries this run's marker. Linux only. */
export function markedProcesses(runId: string): number[] {
  if (!hasProc) return [];
  const needle = Buffer.from(`\0${runMarker}=${runId}\0`);
  return procPids().filter((pid) => {
    if (pid === process.pid) return false;
    try {
      const environ = Buffer.concat([Buffer.from('\0'), readFileSync(`/proc/${pid}/environ`)]);
      return environ.includes(needle) && procStat(pid)?.state !== 'Z';
    } catch {
      return false; // gone, or another user's
    }
  });
}

interface Target {
  signal(signal: NodeJS.Signals): void;
  alive(): boolean;
}

/** Resolves true once the target is gone, false if it outlived `ms`. */
async function waitGone(target: Target, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (target.alive()) {
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

async function escalate(target: Target, graces: StopGraces): Promise<void> {
  target.signal('SIGINT');
  if (await waitGone(target, graces.interruptMs)) return;
  target.signal('SIGTERM');
  if (await waitGone(target, graces.terminateMs)) return;
  target.signal('SIGKILL');
  await waitGone(target, 10_000);
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Stops every process of the group, escalating; resolves when none is left running. */
export function stopGroup(pgid: number, graces: StopGraces = defaultStopGraces): Promise<void> {
  return escalate({ signal: (sig) => send(-pgid, sig), alive: () => groupAlive(pgid) }, graces);
}

/**
 * Stops a whole run: its process group (when `pgid` is given), then whatever still carries its
 * marker. For a group recorded by an earlier gateway process, pass the recorded start time: the
 * group is signalled only if its leader is still that same process (pids are reused).
 */
export async function stopRun(
  run: { pgid?: number; startTime?: string | null; runId: string },
  graces: StopGraces = defaultStopGraces,
): Promise<void> {
  const { pgid, startTime } = run;
  const sameLeader = pgid !== undefined && (!startTime || !hasProc || processStartTime(pgid) === startTime);
  if (pgid !== undefined && sameLeader && groupAlive(pgid)) await stopGroup(pgid, graces);
  if (!run.runId || markedProcesses(run.runId).length === 0) return;
  await escalate(
    {
      signal: (sig) => markedProcesses(run.runId).forEach((pid) => send(pid, sig)),
      alive: () => markedProcesses(run.runId).length > 0,
    },
    graces,
  );
}
