/**
 * The one way an attempt is made, from a hub's offer or a local request: the agent's binding gives
 * its provider, settings, arguments, workdir and whether its runs may share the workdir.
 */
import type { OfferedAssignment } from '@gantry/protocol';
import type { AgentBindings } from './agent-bindings.ts';
import { runIdOf, type Attempt } from './attempts.ts';

export interface Placement {
  /** Its key and process marker (default: the hub attempt's `<assignment>#<attempt>`). */
  runId?: string;
  /** A workdir of its own instead of the binding's (a local run's `workspace`). */
  workdir?: string;
}

export function newAttempt(
  bindings: AgentBindings,
  daemonArgs: readonly string[],
  offer: OfferedAssignment,
  placement: Placement = {},
): Attempt {
  const binding = bindings.of(offer.agentId);
  return {
    runId: placement.runId ?? runIdOf({ assignmentId: offer.id, attempt: offer.attempt }),
    offer,
    workdir: placement.workdir ?? binding.workdir,
    parallel: bindings.parallelOf(binding),
    provider: bindings.providerOf(binding),
    settings: binding.settings,
    args: [...bindings.argsOf(binding), ...daemonArgs],
    state: 'accepted',
    abort: new AbortController(),
  };
}
