/**
 * Runs a command in its own process group, stdin closed, and stops the whole group on request:
 * SIGINT, then SIGTERM after a grace, then SIGKILL (DESIGN §3, §9). Stopping resolves only once
 * no process of the group is left.
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
  if (process.platform !== 'linux') return true;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
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
