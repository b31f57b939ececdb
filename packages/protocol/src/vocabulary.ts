/**
 * The closed sets of names an assignment and an agent use (states, modes, resume fallbacks, agent
 * and principal kinds), without zod: the schemas in assignment.ts and resources.ts and the CLI's
 * quick readers (answers.ts) build on the same lists.
 */
export const assignmentStates = [
  'queued',
  'offered',
  'starting',
  'running',
  'cancelling',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'expired',
] as const;
export type AssignmentState = (typeof assignmentStates)[number];

export const terminalStates = ['succeeded', 'failed', 'cancelled', 'timed_out', 'expired'] as const;
export type TerminalState = (typeof terminalStates)[number];

export function isTerminal(state: AssignmentState): state is TerminalState {
  return (terminalStates as readonly string[]).includes(state);
}

/** The states in which a gateway may be running an attempt. */
export const activeStates = ['starting', 'running', 'cancelling'] as const;

export const assignmentModes = ['new', 'continue'] as const;
export type AssignmentMode = (typeof assignmentModes)[number];

/** What a continuation does when the provider cannot resume its session: fail, or start a new one. */
export const resumeFallbacks = ['fail', 'new'] as const;
export type ResumeFallback = (typeof resumeFallbacks)[number];

export const agentKinds = ['managed', 'pass_through', 'service'] as const;

/** The most runs one chain may be allowed (`--chain-max-runs`). */
export const chainMaxRunsCeiling = 10_000;

/** Who a request acts as. */
export const principalKinds = ['user', 'agent', 'gateway'] as const;

/**
 * `POST /v1/assignments` with this header (1 to 255 visible ASCII characters) creates at most one
 * assignment per key and workspace within 24 h: a retry gets the first one's answer, marked with
 * `Idempotent-Replayed: true`; the key with a different request is a `conflict` (409).
 */
export const idempotencyKeyHeader = 'Idempotency-Key';
export const idempotentReplayedHeader = 'Idempotent-Replayed';
