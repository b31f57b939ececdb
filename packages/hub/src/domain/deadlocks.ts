/**
 * Handoffs that never deadlock (issue 12). A run that hands work to another agent and waits for it
 * holds its folder and slot meanwhile; when the other agent can run only in a folder (or its own
 * one-at-a-time slot) held by that run, or by a run that itself waits — directly or through other
 * handoffs — on the asker, the wait could never end. That is said at once, with the reason.
 *
 * Who waits on whom is kept per hub process (a wait is one open request); the folders come from
 * the bindings each gateway mirrors to the hub. "The calling run" is the one the caller's run
 * token names (an agent key names none: then any started run of the asking agent).
 */
import { GantryError, type BindingSummary } from '@gantry/protocol';
import type { Actor } from './actor.ts';
import type { GatewayLink, Links } from '../dispatch/links.ts';
import type { AgentRow, AssignmentRow, Store } from '../store/store.ts';

/** States in which a run holds its folder and slot on its gateway. */
const holding = new Set(['starting', 'running', 'cancelling']);

export class Deadlocks {
  /** Agents whose run waits now on other agents: waiter id -> target id -> open waits. */
  private readonly waits = new Map<string, Map<string, number>>();

  constructor(
    private readonly store: Store,
    private readonly links: Links,
    private readonly bindingsOf: (gatewayId: string) => Promise<Record<string, BindingSummary>>,
  ) {}

  /** Records that the caller (an agent's run) waits on `targetId`, until the returned function is called. */
  waiting(caller: Actor, targetId: string): () => void {
    if (caller.kind !== 'agent') return () => undefined;
    const targets = this.waits.get(caller.id) ?? new Map<string, number>();
    this.waits.set(caller.id, targets);
    targets.set(targetId, (targets.get(targetId) ?? 0) + 1);
    return () => {
      const n = (targets.get(targetId) ?? 1) - 1;
      if (n > 0) targets.set(targetId, n);
      else targets.delete(targetId);
      if (targets.size === 0 && this.waits.get(caller.id) === targets) this.waits.delete(caller.id);
    };
  }

  /**
   * Why the caller, inside a run, could never get an answer from `target`; undefined when it could
   * (or when the caller is not in a run, or no connected gateway serves the target: other answers).
   */
  async reason(caller: Actor, target: AgentRow): Promise<string | undefined> {
    if (caller.kind !== 'agent') return undefined;
    const stuck = this.waitingOn(caller.id);
    const held = (
      await this.store.assignments.unfinished(caller.workspaceId, { agentIds: [...stuck] })
    ).filter((r) => holding.has(r.state) && r.gateway_id !== null);
    // The calling run: the one its run token names, else (an agent key) the agent's started runs.
    const calling = caller.run?.assignmentId;
    if (!held.some((r) => (calling ? r.id === calling : r.agent_id === caller.id))) return undefined;
    const places = this.links.all().filter((l) => l.agents.has(target.id));
    if (places.length === 0) return undefined;
    const reasons: string[] = [];
    for (const link of places) {
      const why = await this.blocked(link, target, held, caller);
      if (!why) return undefined;
      reasons.push(why);
    }
    return reasons.join('; ');
  }

  /** A waiting assign that could never end is refused, and nothing is created. */
  async refuse(caller: Actor, target: AgentRow): Promise<void> {
    const reason = await this.reason(caller, target);
    if (reason)
      throw new GantryError(
        'conflict',
        `would_deadlock: ${reason}; assign without --wait to queue it for after this run`,
        { details: { status: 'would_deadlock', reason } },
      );
  }

  /** The agent and every agent whose run waits on it, directly or through other waits. */
  private waitingOn(agentId: string): Set<string> {
    const found = new Set([agentId]);
    const queue = [agentId];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const [waiter, targets] of this.waits) {
        if (targets.has(next) && !found.has(waiter)) {
          found.add(waiter);
          queue.push(waiter);
        }
      }
    }
    return found;
  }

  /** Why the target cannot start on this gateway while the held runs wait, if it cannot. */
  private async blocked(
    link: GatewayLink,
    target: AgentRow,
    held: AssignmentRow[],
    caller: Actor,
  ): Promise<string | undefined> {
    const bindings = await this.bindingsOf(link.gatewayId);
    const mine = bindings[target.id];
    if (mine?.parallel || mine?.isolation === 'worktree') return undefined;
    const here = held.filter((r) => r.gateway_id === link.gatewayId);
    const whose = async (r: AssignmentRow) => {
      if (r.agent_id === caller.id) return `the asking run ${r.id} (${caller.name})`;
      const agent = await this.store.agents.get(r.agent_id);
      return `${agent?.name ?? r.agent_id}'s run ${r.id}, which waits on ${caller.name}`;
    };
    const own = here.find((r) => r.agent_id === target.id);
    if (own)
      return `${target.name} runs one at a time on gateway ${link.name}, and its slot is held by ${await whose(own)}`;
    if (!mine) return undefined;
    const sharer = here.find((r) => bindings[r.agent_id]?.workdir === mine.workdir);
    if (sharer)
      return `${target.name} runs only in ${mine.workdir} on gateway ${link.name}, held by ${await whose(sharer)}`;
    return undefined;
  }
}
