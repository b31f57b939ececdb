/** What every provider implements: a check that it can run here, and one run of one attempt. */
import type { EmitEvent, FailureCode, OfferedAssignment, ResultDetails } from '@gantry/protocol';
import type { RunSpool } from '../spool/run-spool.ts';
import type { ProviderSettings } from './settings.ts';

export interface ProviderCheck {
  ok: boolean;
  /** What was found (a path) or, when not ok, what was tried, what is missing and how to fix it. */
  detail: string;
  /** The provider's version, when it has one (`codex --version`, ...). */
  version?: string;
}

export interface PermissionRequest {
  /** Unique within the run. */
  requestId: string;
  /** The tool that asks, e.g. `Bash`, `edit`. */
  tool: string;
  /** A short, human-readable summary of what the tool would do. */
  input: string;
}

export interface RunRequest {
  assignment: OfferedAssignment;
  workdir: string;
  /**
   * The run's environment: the allowlist (HOME, PATH, locale, proxies), the provider's own
   * families (`Provider.envFamilies`), the binding's `--env-pass` names, and the GANTRY_* run
   * variables. Spawn with exactly this.
   */
  env: Record<string, string>;
  args: string[];
  settings: ProviderSettings;
  /**
   * The provider's own session id to continue (`mode: continue` and one was saved for this agent
   * and session key). When the provider refuses it, return error code `resume_failed`; the gateway
   * then fails the run or starts fresh, as the assignment asked.
   */
  resumeId?: string;
  /** Aborted to stop the run (cancel, timeout, revoke); the run resolves once its processes are gone. */
  signal: AbortSignal;
  emit: EmitEvent;
  /**
   * Asks whether a tool may run, as the binding's `--permission` says: `allow` and `deny` answer at
   * once; `ask` waits for a user's decision on the hub (denied after a timeout). The gateway emits
   * `permission_requested` and `permission_decided`; the provider only acts on the answer.
   */
  requestPermission(request: PermissionRequest): Promise<'approved' | 'denied'>;
  /**
   * Back-pressure: undefined while the outbox has room; past its budget, a promise that resolves
   * once it has room again. A provider stops reading its process's output until then.
   */
  room(): Promise<void> | undefined;
  /**
   * A hub's run: spawned through a supervisor that outlives the daemon, its output spooled to a
   * file (or, `attach`, taken back after a restart). `runLineProcess` does this, for a protocol
   * over stdio too (its stdin through the supervisor); Ollama runs in the daemon and ignores it.
   */
  spool?: RunSpool;
  /** The gateway's check of this provider made for this run; without it the provider checks itself. */
  checked?: ProviderCheck;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed';
  output: string;
  exitCode: number | null;
  error?: { code: FailureCode; message: string };
  /** The provider's session id, if it reported one, for later continuations. */
  sessionId?: string;
  /** The process group the run used, for the record. */
  pid?: number;
  details?: ResultDetails;
}

export interface Provider {
  readonly name: string;
  /**
   * Environment variable families this provider needs passed through, as exact names or prefixes
   * ending in `_` (e.g. `OPENAI_`, `CODEX_`).
   */
  readonly envFamilies: readonly string[];
  /** A run happens in the daemon (Ollama's HTTP calls), not in a process of its own: it is up at once. */
  readonly inDaemon?: boolean;
  check(): Promise<ProviderCheck>;
  run(request: RunRequest, onSpawn?: (pid: number) => void): Promise<RunOutcome>;
}

/** The outcome of a run whose provider cannot run here (binary missing, server unreachable). */
export function unavailable(detail: string): RunOutcome {
  return {
    status: 'failed',
    output: '',
    exitCode: null,
    error: { code: 'provider_unavailable', message: detail },
  };
}
