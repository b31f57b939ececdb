// Issue 14: a run taken back after a restart asks its pending permission request again while the
// hub sends the decisions it holds on hello, in either order. A decision that comes first is kept
// for the request (a minute at most).
import { describe, expect, it } from 'vitest';
import { PermissionDesk } from '../src/permissions.ts';

const attempt = { assignmentId: 'asg_1', attempt: 1 };
const request = { requestId: 'call_1#1', tool: 'Bash', input: 'touch x' };
const frame = (decision: 'approved' | 'denied') =>
  ({ t: 'permission', ...attempt, requestId: request.requestId, decision, approvalId: 'apr_1' }) as const;

function asker() {
  const events: [string, Record<string, unknown>][] = [];
  return { events, emit: (type: string, data: Record<string, unknown>) => void events.push([type, data]) };
}

describe('the permission desk', () => {
  it('answers a request with the decision that came before it was asked', async () => {
    const desk = new PermissionDesk(60_000);
    desk.decide(frame('approved'));
    const { events, emit } = asker();
    const decision = await desk.ask(attempt, 'ask', emit, request, new AbortController().signal);
    expect(decision).toBe('approved');
    expect(events).toEqual([
      ['permission_requested', request],
      [
        'permission_decided',
        { requestId: request.requestId, decision: 'approved', by: 'user', approvalId: 'apr_1' },
      ],
    ]);
  });

  it('answers a waiting request when its decision comes; one for another attempt is not its', async () => {
    const desk = new PermissionDesk(300);
    const { emit } = asker();
    const waiting = desk.ask(attempt, 'ask', emit, request, new AbortController().signal);
    desk.decide(frame('denied'));
    expect(await waiting).toBe('denied');
    // A decision for another attempt's request is not this one's.
    desk.decide({ ...frame('approved'), attempt: 2 });
    const again = await desk.ask(attempt, 'ask', emit, request, new AbortController().signal);
    expect(again).toBe('denied'); // nobody answered: the timeout's denial
  });
});
