/**
 * Why the gateway stopped a run, and the result it reports for it. Only a person's cancel (the
 * hub's `cancel` frame) ends a run `cancelled`; a run the hub revoked, or one stopped because the
 * gateway was cut off or stopping, is `lost`: the hub retries it under `retries` or fails it.
 */
import type { FailureCode } from '@gantry/protocol';

export type StopReason = 'cancelled' | 'timed_out' | 'revoked' | 'cut_off' | 'stopping';

type Stopped = { status: 'cancelled' | 'timed_out' | 'lost'; error: { code: FailureCode; message: string } };

/** The result of a stopped run; `detail` says more (the hub's reason for a revoke). */
export function stoppedResult(reason: StopReason | undefined, detail?: string): Stopped | undefined {
  switch (reason) {
    case 'cancelled':
      return {
        status: 'cancelled' as const,
        error: { code: 'cancelled', message: 'cancelled; the process group was stopped' },
      };
    case 'timed_out':
      return {
        status: 'timed_out' as const,
        error: { code: 'timed_out', message: 'the run exceeded its timeout and was stopped' },
      };
    case 'revoked':
      return {
        status: 'lost' as const,
        error: {
          code: 'revoked',
          message: `the hub revoked this attempt${detail ? ` (${detail})` : ''}; the process group was stopped`,
        },
      };
    case 'cut_off':
      return {
        status: 'lost' as const,
        error: {
          code: 'gateway_lost',
          message:
            'the gateway was out of contact with the hub past its lease and grace; the process group was stopped',
        },
      };
    case 'stopping':
      return {
        status: 'lost' as const,
        error: { code: 'gateway_lost', message: 'the gateway was stopped while this ran' },
      };
    default:
      return undefined;
  }
}
