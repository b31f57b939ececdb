/** What every provider implements: a check that it can run here, and one run of one attempt. */
import type { OfferedAssignment } from '@gantry/protocol';

export interface ProviderCheck {
  ok: boolean;
  /** What was found (a path, a version) or, when not ok, what is missing and how to fix it. */
  detail: string;
}

export interface RunRequest {
  assignment: OfferedAssignment;
  workdir: string;
  /** The allowlisted environment plus the GANTRY_* run variables. */
  env: Record<string, string>;
  args: string[];
  /** The provider's own session id to continue, when this is a continuation. */
  resumeId?: string;
  /** Aborted to stop the run (cancel, timeout, revoke); the run resolves once its processes are gone. */
  signal: AbortSignal;
  emit(type: string, data: Record<string, unknown>): void;
  /**
   * Back-pressure: undefined while the outbox has room; past its budget, a promise that resolves
   * once it has room again. A provider stops reading its process's output until then.
   */
  room(): Promise<void> | undefined;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed';
  output: string;
  exitCode: number | null;
  error?: { code: string; message: string };
  /** The provider's session id, if it reported one, for later continuations. */
  sessionId?: string;
  /** The process group the run used, for the record. */
  pid?: number;
}

export interface Provider {
  readonly name: string;
  check(): Promise<ProviderCheck>;
  run(request: RunRequest, onSpawn?: (pid: number) => void): Promise<RunOutcome>;
}
