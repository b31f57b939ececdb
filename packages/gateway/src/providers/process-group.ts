/**
 * Runs a command in its own process group, stdin closed, and stops the whole group on request:
 * SIGINT, then SIGTERM after a grace, then SIGKILL (DESIGN §3, §9). Stopping resolves only once
 * no process of the group is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface StopGraces {
  /** After SIGINT, before SIGTERM. */
  interruptMs: number;
  /** After SIGTERM, before SIGKILL. */
  terminateMs: number;
}

export const defaultStopGraces: StopGraces = { interruptMs: 5_000, terminateMs: 5_000 };

export function spawnGroup(
  bin: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): ChildProcess {
  return spawn(bin, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

/** Resolves true once the group is gone, false if it outlived `ms`. */
async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** Stops every process of the group, escalating; resolves when none is left. */
export async function stopGroup(pgid: number, graces: StopGraces = defaultStopGraces): Promise<void> {
  signalGroup(pgid, 'SIGINT');
  if (await waitGone(pgid, graces.interruptMs)) return;
  signalGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graces.terminateMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitGone(pgid, 60_000);
}
