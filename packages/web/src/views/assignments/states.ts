/**
 * Assignment states, from the protocol's zod-free entry (`@gantry/protocol/core`): the dashboard
 * takes the values from there, never from the main entry, which would bring zod into the bundle.
 */
import { assignmentStates, isTerminal, type AssignmentState } from '@gantry/protocol/core';

export const assignmentStatesList: readonly AssignmentState[] = assignmentStates;

export function isFinished(state: AssignmentState): boolean {
  return isTerminal(state);
}
