/**
 * What a user would check with `ps`: whether a process or a process group is still running. A zombie
 * (exited, waiting for its reaper) has stopped, so it does not count. Linux only (reads /proc).
 */
import { readdirSync, readFileSync } from 'node:fs';

function procState(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

export function processRunning(pid: number): boolean {
  const state = procState(pid);
  return state !== undefined && state.state !== 'Z';
}

export function groupRunning(pgid: number): boolean {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .some((entry) => {
      const state = procState(Number(entry));
      return state?.pgrp === pgid && state.state !== 'Z';
    });
}

/** Whether any process still carries this run marker (`GANTRY_RUN_ID=<marker>`) in its environment. */
export function markedRunning(marker: string): boolean {
  const needle = `\0GANTRY_RUN_ID=${marker}\0`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .some((entry) => {
      try {
        if (procState(Number(entry))?.state === 'Z') return false;
        return `\0${readFileSync(`/proc/${entry}/environ`, 'utf8')}`.includes(needle);
      } catch {
        return false;
      }
    });
}
