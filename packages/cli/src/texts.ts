/**
 * Text a command is given that is refused here, before asking the hub, saying what to give: a
 * prompt, a message or a task title with nothing in it (the hub would answer `invalid body: prompt:
 * must not be empty`), a key or token with a line break in it.
 */
import { ExitError, exitCodes } from './output.ts';

/** Throws a usage error (exit 2) when `value` is empty or blank; `what` is e.g. "the prompt". */
export function requireText(value: string, what: string, example: string): void {
  if (value.trim() === '') throw new ExitError(exitCodes.usage, `${what} is empty: ${example}`);
}

/**
 * Throws a usage error (exit 2) when a key or token (sent as a header) has anything but printable
 * ASCII in it: a space or line break, as two pasted together have. The value itself is never shown
 * (it would be, in the error of the request that tried to send it).
 */
export function requireOneSecret(value: string, what: string, fix: string): void {
  if (!/^[\x21-\x7e]*$/.test(value))
    throw new ExitError(
      exitCodes.usage,
      `${what} has a space, a line break or a character no key has (two pasted together?): ${fix}`,
    );
}
