/**
 * Who the domain acts for: a user (with a role), an agent or a gateway, in one workspace. How they
 * proved it (a token, a browser session) is the transport's `Actor`, which the domain never needs:
 * the hub acting for an agent (posting its reply) or a person (starting what they asked for) makes
 * an `Actor` and forges no credential.
 */
import type { Principal } from '@gantry/protocol';

/**
 * The run an agent acts in (DESIGN §6a): set when it speaks with its run token, so everything it
 * does is caused by that run, one step further down the run's chain.
 */
export interface RunCause {
  assignmentId: string;
  agentId: string;
  chainId: string;
  /** The run's own depth in its chain (1 for a run a person started directly). */
  depth: number;
}

export interface Actor extends Principal {
  workspaceId: string;
  /** The run this actor acts in (an agent speaking with its run token, or the hub posting its result). */
  run?: RunCause;
}
