/**
 * Errors from zod: the wire body's schema, and a zod failure as a readable `invalid_request`.
 * The error type itself is in gantry-error.ts (no zod).
 */
import * as z from 'zod';
import { GantryError, type ErrorBody } from './gantry-error.ts';

export * from './gantry-error.ts';

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
}) satisfies z.ZodType<ErrorBody>;

/** Turns a zod failure into a readable `invalid_request`. */
export function invalidRequest(error: z.ZodError, what = 'request'): GantryError {
  // An issue of the value as a whole (no path) is said once: `invalid key: ...`, not `invalid key: key: ...`.
  const issues = error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  return new GantryError('invalid_request', `invalid ${what}: ${issues.join('; ')}`, {
    details: { issues: error.issues.map(({ path, message }) => ({ path, message })) },
  });
}

/** Parses with a schema or throws `invalid_request`. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what?: string): z.infer<T> {
  const result = schema.safeParse(value, { error: plainIssue });
  if (!result.success) throw invalidRequest(result.error, what);
  return result.data;
}

/**
 * Zod's own wording said plainly, for people reading a CLI's error: `prompt: must not be empty`, not
 * `prompt: Too small: expected string to have >=1 characters`. A schema's own message is kept (zod
 * asks this only where a schema has none); anything not known here keeps zod's.
 */
const plainIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'int') return 'must be a whole number';
      return `must be ${kinds[issue.expected] ?? issue.expected}, not ${kindOf(issue.input)}`;
    case 'too_small':
      return limit(issue.origin, 'least', Number(issue.minimum), issue.inclusive !== false);
    case 'too_big':
      return limit(issue.origin, 'most', Number(issue.maximum), issue.inclusive !== false);
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    default:
      return undefined;
  }
};

const kinds: Record<string, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

function kindOf(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'string') return 'text';
  if (typeof input === 'object') return 'an object';
  if (typeof input === 'boolean') return 'true or false';
  return `a ${typeof input}`;
}

/** A bound on a length, a count or a number: `must not be empty`, `must be at most 200 characters`. */
function limit(
  origin: string,
  side: 'least' | 'most',
  bound: number,
  inclusive: boolean,
): string | undefined {
  const unit =
    origin === 'string' ? 'characters' : origin === 'array' || origin === 'set' ? 'items' : undefined;
  if (unit) {
    if (side === 'least' && bound === 1) return 'must not be empty';
    return `must have at ${side} ${bound} ${bound === 1 ? unit.slice(0, -1) : unit}`;
  }
  if (origin !== 'number' && origin !== 'bigint') return undefined;
  if (inclusive) return `must be at ${side} ${bound}`;
  return side === 'least' ? `must be more than ${bound}` : `must be less than ${bound}`;
}
