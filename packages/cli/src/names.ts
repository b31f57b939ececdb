/**
 * Names the hub gives things by (agents, user handles, workspaces) follow one rule; a name that
 * breaks it is refused here, before asking the hub, with one that keeps it.
 */
import { namePattern } from '@gantry/protocol';
import { ExitError, exitCodes } from './output.ts';

/** Throws a usage error (exit 2) unless `value` is a valid name; `what` is e.g. "agent name". */
export function checkName(what: string, value: string): void {
  if (namePattern.test(value)) return;
  const like = value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  throw new ExitError(
    exitCodes.usage,
    `invalid ${what} '${value}': lower-case letters, digits, . _ - (up to 63, starting with a letter or digit)` +
      (namePattern.test(like) ? `, like '${like}'` : ''),
  );
}
