/**
 * Tool-permission requests of running agents, answered by the binding's `--permission` policy:
 * `allow` and `deny` at once; `ask` waits for a user's decision on the hub. The request travels as
 * a `permission_requested` event (through the outbox, so it survives a hub outage); the hub makes
 * it a pending approval and sends the decision back as a `permission` frame. An unanswered request
 * is denied after the timeout. Every decision is a `permission_decided` event.
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
    const decision = await new Promise<{ decision: Decision; by: 'user' | 'timeout'; approvalId?: string }>(
      (resolve) => {
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
      },
    );
    if (!signal.aborted) emit('permission_decided', { requestId, ...decision });
    return decision.decision;
  }

  /** A user's decision from the hub; a repeat (after a reconnect) or one for a finished run is ignored. */
  decide(frame: HubFrameOf<'permission'>): void {
    const key = this.key(frame, frame.requestId);
    const waiting = this.waiting.get(key);
    if (!waiting) return;
    this.waiting.delete(key);
    clearTimeout(waiting.timer);
    waiting.resolve(frame.decision, frame.approvalId);
  }

  private key(attempt: { assignmentId: string; attempt: number }, requestId: string): string {
    return `${attempt.assignmentId}#${attempt.attempt}:${requestId}`;
  }
}
