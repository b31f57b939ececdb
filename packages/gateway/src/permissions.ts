/**
 * Tool-permission requests of running agents, answered by the binding's `--permission` policy:
 * `allow` and `deny` at once; `ask` waits for a user's decision on the hub. The request travels as
 * a `permission_requested` event (through the outbox, so it survives a hub outage); the hub makes
 * it a pending approval and sends the decision back as a `permission` frame. An unanswered request
 * is denied after the timeout. Every decision is a `permission_decided` event. A decision that
 * comes before its request is asked (a run being taken back after a restart, which replays up to
 * it, while the hub sends the decisions it holds) is kept a minute for it.
 */
import type { EmitEvent, HubFrameOf } from '@gantry/protocol';
import type { PermissionRequest } from './providers/provider.ts';
import {
  defaultPermissionPolicy,
  type PermissionPolicy,
  type ProviderSettings,
} from './providers/settings.ts';

export type Decision = 'approved' | 'denied';

/** GANTRY_PERMISSION_TIMEOUT_MS, default 10 minutes. */
export const defaultPermissionTimeoutMs = 10 * 60 * 1000;

/** How long a decision waits for its request to be asked. */
const earlyKeptMs = 60_000;

interface Waiting {
  resolve(decision: Decision, approvalId: string): void;
  timer: NodeJS.Timeout;
}

/** The policy a run's permission requests are answered by. */
export function policyOf(settings: ProviderSettings): PermissionPolicy {
  return settings.permission ?? defaultPermissionPolicy;
}

/**
 * A request the policy answers at once: `allow` or `deny`, and `ask` of a local run, which no user
 * on the hub can answer, denied saying why.
 */
export function decideByPolicy(
  policy: PermissionPolicy,
  emit: EmitEvent,
  request: PermissionRequest,
): Decision {
  const { requestId, tool, input } = request;
  emit('permission_requested', { requestId, tool, input });
  if (policy === 'ask')
    emit('log', {
      stream: 'provider',
      text: 'permission requests of local runs cannot be asked on the hub: denied (bind with --permission allow to allow them)',
    });
  const decision = policy === 'allow' ? 'approved' : 'denied';
  emit('permission_decided', { requestId, decision, by: 'policy' });
  return decision;
}

/** The requests of one hub's runs waiting for a user's decision there. */
export class PermissionDesk {
  private readonly waiting = new Map<string, Waiting>();
  private readonly early = new Map<string, { frame: HubFrameOf<'permission'>; timer: NodeJS.Timeout }>();

  constructor(private readonly timeoutMs: number) {}

  async ask(
    attempt: { assignmentId: string; attempt: number },
    policy: PermissionPolicy,
    emit: EmitEvent,
    request: PermissionRequest,
    signal: AbortSignal,
  ): Promise<Decision> {
    if (policy !== 'ask') return decideByPolicy(policy, emit, request);
    const { requestId, tool, input } = request;
    emit('permission_requested', { requestId, tool, input });
    const key = this.key(attempt, requestId);
    const early = this.early.get(key);
    this.early.delete(key);
    clearTimeout(early?.timer);
    const decision = early
      ? { decision: early.frame.decision, by: 'user' as const, approvalId: early.frame.approvalId }
      : await this.wait(key, signal);
    if (!signal.aborted) emit('permission_decided', { requestId, ...decision });
    return decision.decision;
  }

  private wait(
    key: string,
    signal: AbortSignal,
  ): Promise<{ decision: Decision; by: 'user' | 'timeout'; approvalId?: string }> {
    return new Promise<{ decision: Decision; by: 'user' | 'timeout'; approvalId?: string }>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve({ decision: 'denied', by: 'timeout' });
      }, this.timeoutMs);
      timer.unref();
      const onAbort = () => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve({ decision: 'denied', by: 'timeout' });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.set(key, {
        timer,
        resolve: (d, approvalId) => {
          signal.removeEventListener('abort', onAbort);
          resolve({ decision: d, by: 'user', approvalId });
        },
      });
    });
  }

  /**
   * A user's decision from the hub. One that no request waits for (a repeat after a reconnect, one
   * for a finished run, or one for a run not yet taken back) is kept a minute, then dropped.
   */
  decide(frame: HubFrameOf<'permission'>): void {
    const key = this.key(frame, frame.requestId);
    const waiting = this.waiting.get(key);
    if (!waiting) {
      clearTimeout(this.early.get(key)?.timer);
      const timer = setTimeout(() => this.early.delete(key), earlyKeptMs);
      timer.unref();
      this.early.set(key, { frame, timer });
      return;
    }
    this.waiting.delete(key);
    clearTimeout(waiting.timer);
    waiting.resolve(frame.decision, frame.approvalId);
  }

  private key(attempt: { assignmentId: string; attempt: number }, requestId: string): string {
    return `${attempt.assignmentId}#${attempt.attempt}:${requestId}`;
  }
}
