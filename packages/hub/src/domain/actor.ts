/**
 * Who the domain acts for: a user (with a role), an agent or a gateway, in one workspace. How they
 * proved it (a token, a browser session) is the transport's `Actor`, which the domain never needs:
 * the hub acting for an agent (posting its reply) or a person (starting what they asked for) makes
 * an `Actor` and forges no credential.
 */
import type { Principal } from '@gantry/protocol';

export interface Actor extends Principal {
  workspaceId: string;
}
