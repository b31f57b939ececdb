/** `--chain-max-runs N` (or `chains continue --runs N`), read without zod: `assign` loads none. */
import { chainMaxRunsCeiling } from '@gantry/protocol/core';
import { ExitError, exitCodes } from './output.ts';

/** A whole number from 1 to the ceiling a chain may be allowed. */
export function parseChainMaxRuns(value: string | undefined, flag = '--chain-max-runs'): number | undefined {
  if (value === undefined) return undefined;
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1 || runs > chainMaxRunsCeiling)
    throw new ExitError(exitCodes.usage, `${flag} must be a whole number from 1 to ${chainMaxRunsCeiling}`);
  return runs;
}
