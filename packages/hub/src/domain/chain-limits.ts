/**
 * A chain's limits (DESIGN §6a): how deep its runs may go (`--chain-max-depth`) and how many it may
 * make (`--chain-max-runs`), the hub's unless a person raised them for one request. A trigger past a
 * limit runs nothing: it becomes a `chain.limit_reached` entry and a message to the person at the
 * chain's root (owners and admins when nobody started it), who may let it go on.
 */
import {
  chainContinued,
  chainDismissed,
  chainLimitReached,
  GantryError,
  type ContinueChain,
  type Party,
} from '@gantry/protocol';
import { hasRole } from '../auth/roles.ts';
import type { ChainRow, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import type { Actor } from './actor.ts';
import type { ChainRef } from './chains.ts';
import type { Messages } from './messages.ts';

export interface ChainSettings {
  /** Deepest run a chain may make: 1 is a run a person started directly. */
  maxDepth: number;
  /** Most runs one chain may make. */
  maxRuns: number;
}

export const defaultChainSettings: ChainSettings = { maxDepth: 6, maxRuns: 24 };

/** Whether a run may start; when not, which limit stopped it and where the chain stood. */
export type Admission =
  | { ok: true }
  | { ok: false; limit: 'depth' | 'runs'; depth: number; runs: number; maxDepth: number; maxRuns: number };

/** A trigger that was stopped: what it asked for and whose action it was. */
export interface Stop {
  workspaceId: string;
  /** Where the run would have been. */
  step: ChainRef;
  agent: { id: string; name: string };
  /** Who asked (the run's agent that wrote the message, made the task or asked for the assignment). */
  by: Party;
  messageId?: string;
  taskId?: string;
}

export class ChainLimits {
  constructor(
    private readonly store: Store,
    private readonly activity: Activity,
    private readonly messages: Messages,
    readonly settings: ChainSettings,
  ) {}

  /** The chain's limits: its own where a person raised them, else the hub's. */
  limitsOf(chain: ChainRow | undefined): { maxDepth: number; maxRuns: number } {
    return {
      maxDepth: chain?.max_depth ?? this.settings.maxDepth,
      maxRuns: chain?.max_runs ?? this.settings.maxRuns,
    };
  }

  /** Whether a run at `step` may start now. */
  async admit(step: ChainRef): Promise<Admission> {
    const { maxDepth, maxRuns } = this.limitsOf(await this.store.chains.get(step.chainId));
    const runs = await this.store.chains.runs(step.chainId);
    const at = { depth: step.depth, runs, maxDepth, maxRuns };
    if (step.depth > maxDepth) return { ok: false, limit: 'depth', ...at };
    if (runs >= maxRuns) return { ok: false, limit: 'runs', ...at };
    return { ok: true };
  }

  /**
   * A run asked for an assignment itself: past a limit, nothing is made; the stop is said and the
   * request answers at once `chain_limit` (a conflict).
   */
  async refuse(caller: Actor, step: ChainRef, agent: { id: string; name: string }): Promise<void> {
    const admission = await this.admit(step);
    if (admission.ok) return;
    const by: Party = { kind: 'agent', id: caller.id, name: caller.name };
    await this.stopped({ workspaceId: caller.workspaceId, step, agent, by }, admission);
    throw new GantryError('conflict', `chain_limit: ${limitLine(step.chainId, admission)}`, {
      details: { status: 'chain_limit', chainId: step.chainId, limit: admission.limit },
    });
  }

  /** Says what was stopped: the entry, and a message to the person at the root (once per call). */
  async stopped(stop: Stop, admission: Exclude<Admission, { ok: true }>): Promise<void> {
    const { step, agent } = stop;
    const { limit, depth, runs, maxDepth, maxRuns } = admission;
    // Marked before the entry is said, so a reader woken by it finds the chain stopped.
    await this.store.chains.stop(step.chainId, { limit, agentId: agent.id });
    await this.activity.append(chainLimitReached, {
      workspaceId: stop.workspaceId,
      actor: stop.by,
      subject: step.chainId,
      data: {
        chainId: step.chainId,
        limit,
        agent,
        depth,
        runs,
        maxDepth,
        maxRuns,
        ...(stop.messageId ? { messageId: stop.messageId } : {}),
        ...(stop.taskId ? { taskId: stop.taskId } : {}),
        ...(step.cause ? { causeId: step.cause } : {}),
      },
    });
    const chain = await this.store.chains.get(step.chainId);
    const to = chain?.person_id ? [chain.person_id] : await this.admins(stop.workspaceId);
    if (to.length === 0 || stop.by.kind !== 'agent') return;
    const what = stop.messageId
      ? `asked for by message ${stop.messageId}`
      : stop.taskId
        ? `for task ${stop.taskId}`
        : 'asked for by an assignment';
    // Names without `@`: the note runs nobody; it goes to the person in the chain the stop is in.
    await this.messages.send(
      { ...stop.by, role: null, workspaceId: stop.workspaceId },
      {
        body:
          `${limitLine(step.chainId, admission)}: ${agent.name} was not run (${what}). ` +
          `To let it go on: gantry chains continue ${step.chainId}; to leave it stopped: gantry chains dismiss ${step.chainId}`,
        to,
        metadata: { chainLimit: { chainId: step.chainId, limit, agentId: agent.id } },
      },
      { chain: { ...step, depth: Math.max(0, step.depth - 1) } },
    );
  }

  /**
   * Lets a stopped chain go on: another budget of runs (`runs`, default the hub's) and of depth
   * from where it stands; a `chain.continued` entry asks the work dispatcher to run what was stopped.
   */
  async continue(caller: Actor, chainId: string, input: ContinueChain): Promise<ChainRow> {
    const chain = await this.visible(caller, chainId);
    const { maxDepth } = this.limitsOf(chain);
    const runs = await this.store.chains.runs(chainId);
    const limits = {
      max_runs: runs + (input.runs ?? this.settings.maxRuns),
      max_depth: maxDepth + this.settings.maxDepth,
    };
    await this.store.chains.setLimits(chainId, limits);
    await this.store.chains.unstop(chainId);
    await this.activity.append(chainContinued, {
      workspaceId: chain.workspace_id,
      actor: { kind: 'user', id: caller.id, name: caller.name },
      subject: chainId,
      data: { chainId, maxDepth: limits.max_depth, maxRuns: limits.max_runs },
    });
    return { ...chain, ...limits, stopped_at: null, stopped_limit: null, stopped_agent_id: null };
  }

  /**
   * Leaves a stopped chain stopped: it no longer waits on anyone (a `chain.dismissed` entry); what
   * its limits stopped stays, and `continue` may still run it later. A chain not stopped is unchanged.
   */
  async dismiss(caller: Actor, chainId: string): Promise<ChainRow> {
    const chain = await this.visible(caller, chainId);
    if (await this.store.chains.unstop(chainId))
      await this.activity.append(chainDismissed, {
        workspaceId: chain.workspace_id,
        actor: { kind: 'user', id: caller.id, name: caller.name },
        subject: chainId,
        data: { chainId },
      });
    return { ...chain, stopped_at: null, stopped_limit: null, stopped_agent_id: null };
  }

  /** The chain if the caller may see it: owners and admins any, a member the chains they started. */
  async visible(caller: Actor, chainId: string): Promise<ChainRow> {
    // Said before looking: an agent's key learns nothing about which chains there are.
    if (caller.kind !== 'user')
      throw new GantryError(
        'forbidden',
        'chains are for people only: sign in as a user, not with an agent key',
      );
    const chain = await this.store.chains.get(chainId);
    const theirs = chain && chain.workspace_id === caller.workspaceId;
    if (!theirs || (!hasRole(caller, 'admin') && chain.person_id !== caller.id))
      throw new GantryError(
        'not_found',
        `no chain ${chainId} of yours (see \`gantry chains list --state all\`)`,
      );
    return chain;
  }

  private async admins(workspaceId: string): Promise<string[]> {
    const users = await this.store.users.list(workspaceId);
    return users.filter((u) => u.role === 'owner' || u.role === 'admin').map((u) => u.id);
  }
}

/** "Chain X reached its limit of ...", for the note and the refusal alike. */
export function limitLine(chainId: string, a: Exclude<Admission, { ok: true }>): string {
  return a.limit === 'depth'
    ? `chain ${chainId} reached its limit of ${a.maxDepth} runs deep (this run would be ${a.depth} deep)`
    : `chain ${chainId} reached its limit of ${a.maxRuns} runs`;
}
