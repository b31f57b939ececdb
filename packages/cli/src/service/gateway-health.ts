/**
 * One watchdog check of this machine's gateway: its process (from `local-api.json`) and its
 * `/api/health`. It is healthy, dead (no process), not answering (refused or an error) or hung
 * (the request ran out of time: a stopped or stuck process still has its socket open).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import type { GantryPaths } from '@gantry/gateway';
import { run } from './manager.ts';
import { fetchWithin } from '../fetch-within.ts';

export type Health =
  | { healthy: true; pid: number | null; url: string }
  | {
      healthy: false;
      reason: 'dead' | 'not answering' | 'hung';
      detail: string;
      pid: number | null;
      url: string;
    };

const addressSchema = z.object({ url: z.string(), pid: z.number().int() });

export function gatewayAddress(paths: GantryPaths): z.infer<typeof addressSchema> | undefined {
  if (!existsSync(paths.localApiAddressFile)) return undefined;
  try {
    return addressSchema.parse(JSON.parse(readFileSync(paths.localApiAddressFile, 'utf8')));
  } catch {
    return undefined;
  }
}

export async function checkHealth(
  paths: GantryPaths,
  fallbackPort: number,
  timeoutMs: number,
): Promise<Health> {
  const address = gatewayAddress(paths);
  const url = address?.url ?? `http://127.0.0.1:${fallbackPort}`;
  const pid = address && processState(address.pid) !== 'gone' ? address.pid : null;
  if (pid === null)
    return {
      healthy: false,
      reason: 'dead',
      detail: address ? `its process ${address.pid} is gone` : 'no gateway has run here (no local-api.json)',
      pid: null,
      url,
    };
  try {
    const response = await fetchWithin(`${url}/api/health`, timeoutMs);
    const body = (await response.json().catch(() => undefined)) as { ok?: boolean } | undefined;
    if (response.ok && body?.ok === true) return { healthy: true, pid, url };
    return {
      healthy: false,
      reason: 'not answering',
      detail: `/api/health answered HTTP ${response.status}`,
      pid,
      url,
    };
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return {
        healthy: false,
        reason: 'hung',
        detail: `/api/health gave no answer in ${timeoutMs} ms${processState(pid) === 'stopped' ? ' (the process is stopped)' : ''}`,
        pid,
        url,
      };
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { healthy: false, reason: 'not answering', detail: `${url}/api/health: ${cause}`, pid, url };
  }
}

/**
 * What a process is doing: gone (or a zombie, which only waits to be reaped), stopped (SIGSTOP,
 * a debugger) or alive. Linux reads /proc; elsewhere `ps`.
 */
export function processState(pid: number): 'gone' | 'stopped' | 'alive' {
  let state: string | undefined;
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return 'gone';
    }
  } else {
    const ran = run('ps', ['-o', 'stat=', '-p', String(pid)]);
    if (ran.code !== 0) return 'gone';
    state = ran.stdout.trim()[0];
  }
  if (state === 'Z' || state === 'X' || state === undefined) return 'gone';
  return state === 'T' || state === 't' ? 'stopped' : 'alive';
}

/** The command line of a process, to check a recorded pid is still a gantry gateway before killing it. */
export function commandLine(pid: number): string {
  if (process.platform === 'linux') {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return '';
    }
  }
  return run('ps', ['-o', 'command=', '-p', String(pid)]).stdout.trim();
}
