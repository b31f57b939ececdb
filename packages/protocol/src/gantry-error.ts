/**
 * One error type for every package, with a closed set of codes. The hub maps codes to HTTP
 * statuses with `httpStatus`; the CLI maps them to exit codes. On the wire an error is
 * `{ "error": { "code", "message", "details"? } }`. No zod here: the CLI reads it at start-up.
 */

export const errorCodes = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unavailable',
  'timeout',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const httpStatus: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'GantryError';
    this.code = code;
    this.details = options.details;
  }

  toWire(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** The wire shape of an error (`errorBodySchema` in errors.ts checks it). */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Any thrown value as a GantryError; unknown errors become `internal` with the cause kept. */
export function toGantryError(err: unknown): GantryError {
  if (err instanceof GantryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GantryError('internal', message, { cause: err });
}
