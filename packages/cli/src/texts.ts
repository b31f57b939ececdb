/**
 * A prompt, a message or a task title with nothing in it is refused here, before asking the hub,
 * saying what to write (the hub would answer `invalid body: prompt: must not be empty`).
 */
import { ExitError, exitCodes } from './output.ts';

/** Throws a usage error (exit 2) when `value` is empty or blank; `what` is e.g. "the prompt". */
export function requireText(value: string, what: string, example: string): void {
  if (value.trim() === '') throw new ExitError(exitCodes.usage, `${what} is empty: ${example}`);
}
