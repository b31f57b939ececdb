/**
 * `watchdog-state.json` in the data folder: what the watchdog's checks found, kept across its runs
 * (the timer starts a fresh process each minute), so failures in a row are counted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { gantryPaths, writeSecretJson, type GantryPaths } from '@gantry/gateway';

const stateSchema = z.object({
  /** Checks in a row that found the gateway dead, not answering or hung. */
  consecutiveFailures: z.number().int().nonnegative(),
  /** Restarts in a row after which the next check still failed. */
  failedRecoveries: z.number().int().nonnegative(),
  lastCheckAt: z.string().nullable(),
  lastOkAt: z.string().nullable(),
  lastFailure: z.object({ at: z.string(), reason: z.string() }).nullable(),
  lastRecovery: z.object({ at: z.string(), how: z.string(), detail: z.string() }).nullable(),
});
export type WatchdogState = z.infer<typeof stateSchema>;

export const freshState: WatchdogState = {
  consecutiveFailures: 0,
  failedRecoveries: 0,
  lastCheckAt: null,
  lastOkAt: null,
  lastFailure: null,
  lastRecovery: null,
};

export function watchdogStateFile(paths: GantryPaths = gantryPaths()): string {
  return join(paths.data, 'watchdog-state.json');
}

/** The state the last check left; a fresh one when there is none or it cannot be read. */
export function readWatchdogState(paths: GantryPaths = gantryPaths()): WatchdogState {
  const file = watchdogStateFile(paths);
  if (!existsSync(file)) return { ...freshState };
  try {
    return stateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return { ...freshState }; // a damaged file only loses the count, never the check
  }
}

export function writeWatchdogState(state: WatchdogState, paths: GantryPaths = gantryPaths()): void {
  writeSecretJson(watchdogStateFile(paths), state);
}
