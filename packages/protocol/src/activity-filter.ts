/**
 * The activity log's type filter, one rule for the hub's `?type=` and the CLI's `--type`/`--event`:
 * `a,b` and repeated values alike, each an exact type (`message.created`) or a prefix ending in `.`
 * (`task.` for every task entry). No zod here: the CLI reads it at start-up.
 */
import { GantryError } from './gantry-error.ts';

const typePattern = /^[a-z0-9_.]{1,100}$/i;

/** The types in `values`; one that is no type (nor prefix) is refused, `invalid_request`. */
export function parseActivityTypes(values: readonly string[]): string[] {
  const types = values
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of types) {
    if (!typePattern.test(t))
      throw new GantryError(
        'invalid_request',
        `invalid event type '${t}' (e.g. message.created, or task. for all task events)`,
      );
  }
  return types;
}

/** Whether an entry of `type` passes the filter; an empty filter passes everything. */
export function matchesActivityType(type: string, types: readonly string[]): boolean {
  return types.length === 0 || types.some((t) => (t.endsWith('.') ? type.startsWith(t) : type === t));
}
