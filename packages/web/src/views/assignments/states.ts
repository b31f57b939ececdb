/** Assignment states (the protocol's list, kept here as a value: the dashboard imports protocol types only). */
import type { AssignmentState } from '@gantry/protocol';

export const assignmentStatesList: AssignmentState[] = [
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
];

const terminal: AssignmentState[] = ['succeeded', 'failed', 'cancelled', 'timed_out', 'expired'];

export function isFinished(state: AssignmentState): boolean {
  return terminal.includes(state);
}
