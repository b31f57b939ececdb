/**
 * Why a run failed: the closed set of codes an assignment's `error.code` and a gateway's `result`
 * frame carry, and `RunFailure`, the error a gateway throws to end a run with one of them.
 * No zod here: the CLI reads these at start-up.
 */
export const failureCodes = [
  'provider_failed',
  'provider_unavailable',
  'spawn_failed',
  'gateway_lost',
  'cancelled',
  'timed_out',
  'expired',
  'rejected',
  /** A continuation whose provider session could not be resumed (e.g. its session file is gone). */
  'resume_failed',
  /** An isolated run whose git worktree could not be made. */
  'worktree_failed',
  /** An isolated run that rewrote its worktree's `.git` to point elsewhere: nothing of it was committed. */
  'worktree_tampered',
  /** A `lost` result of an attempt the hub revoked; the hub then retries it or fails it `gateway_lost`. */
  'revoked',
] as const;
export type FailureCode = (typeof failureCodes)[number];

export function isFailureCode(code: unknown): code is FailureCode {
  return typeof code === 'string' && (failureCodes as readonly string[]).includes(code);
}

/** An error that ends a run with a failure code (not a `GantryError`: nothing here is an HTTP status). */
export class RunFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'RunFailure';
  }
}

/** The failure code `err` carries, or `fallback` when it carries none of ours (a spawn's ENOENT). */
export function failureCodeOf(err: unknown, fallback: FailureCode): FailureCode {
  const code = (err as { code?: unknown } | null)?.code;
  return isFailureCode(code) ? code : fallback;
}
