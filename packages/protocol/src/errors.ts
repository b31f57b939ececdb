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
  const result = schema.safeParse(value);
  if (!result.success) throw invalidRequest(result.error, what);
  return result.data;
}
