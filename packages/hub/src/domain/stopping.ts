/**
 * Stopping many things at once (issue 12). `cancelAll`: every run of one agent; `cancelChain`:
 * every run of a chain (its person may too). `stopAll`, the
 * workspace's emergency brake: every agent paused, everything queued or running cancelled, one
 * `workspace.stopped` entry and one summary message instead of a reply per cancelled run.
 * `resumeAll` resumes only the agents that brake paused (kept in the store, so any hub and a
 * restart know them). Owners and admins.
 */
import {
  GantryError,
  workspaceResumed,
  workspaceStopped,
  type CancelManyResult,
  type ResumeAllResult,
  type StopAllResult,
} from '@gantry/protocol';
import type { Actor } from './actor.ts';
import { requireRole } from '../auth/roles.ts';
import type { Dispatcher } from '../dispatch/dispatcher.ts';
import { keyOf, type WorkRow } from '../store/work.ts';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import { findAgentOrThrow } from './agents.ts';
import type { Assignments } from './assignments.ts';
import type { Messages } from './messages.ts';
import type { Tasks } from './tasks.ts';

export interface StoppingDeps {
  store: Store;
  activity: Activity;
  assignments: Assignments;
  messages: Messages;
  tasks: Tasks;
  dispatcher: Dispatcher;
}

const started = new Set(['starting', 'running', 'cancelling']);

export class Stopping {
  constructor(private readonly deps: StoppingDeps) {}

  /** `assignments cancel --agent NAME --all`: each of its assignments not ended yet. */
  async cancelAll(caller: Actor, ref: string): Promise<CancelManyResult> {
    requireRole(caller, 'admin', "cancel all of an agent's assignments");
    const agent = await findAgentOrThrow(this.deps.store, caller, ref);
    const rows = await this.deps.store.assignments.unfinished(caller.workspaceId, { agentIds: [agent.id] });
    return { cancelled: await this.cancel(caller, rows) };
  }

  /** `assignments cancel --chain ID`: owners and admins, and the person who started the chain. */
  async cancelChain(caller: Actor, chainId: string): Promise<CancelManyResult> {
    const chain = await this.deps.store.chains.get(chainId);
    if (!chain || chain.workspace_id !== caller.workspaceId)
      throw new GantryError('not_found', `no chain ${chainId}`);
    if (!(caller.kind === 'user' && !caller.run && chain.person_id === caller.id))
      requireRole(caller, 'admin', `stop chain ${chainId}, which someone else started`);
    const rows = await this.deps.store.assignments.unfinished(caller.workspaceId, { chainId });
    return { cancelled: await this.cancel(caller, rows) };
  }

  async stopAll(caller: Actor): Promise<StopAllResult> {
    requireRole(caller, 'admin', 'stop everything');
    const { store, activity } = this.deps;
    const agents = (await store.agents.list(caller.workspaceId)).filter((a) => a.paused !== 1);
    const paused = await store.transaction(async (tx) => {
      const done = [];
      for (const agent of agents)
        if (await tx.agents.setPaused(agent.id, true)) done.push({ id: agent.id, name: agent.name });
      const before = await this.stopped(caller.workspaceId, tx.meta);
      await tx.meta.set(
        stoppedKey(caller.workspaceId),
        JSON.stringify([...before, ...done.map((a) => a.id)]),
      );
      return done;
    });
    const rows = await store.assignments.unfinished(caller.workspaceId);
    // Their runs end without a reply each: the summary below says it once.
    const quiet = (await Promise.all(rows.map((r) => this.silence(r.id)))).filter((w) => w !== undefined);
    const cancelled = await this.cancel(caller, rows);
    for (const work of quiet) {
      if (work.task_id && work.assignment_id)
        await this.deps.tasks
          .fromAssignment(work.task_id, { status: 'cancelled', assignmentId: work.assignment_id })
          .catch(ignore('not_found'));
      await store.work.set(keyOf(work), { state: 'done' });
    }
    const running = rows.filter((r) => started.has(r.state)).length;
    const summary = `Stopped everything (gantry stop --all by ${caller.name}): paused ${paused.length} agent(s)${
      paused.length ? ` (${paused.map((a) => a.name).join(', ')})` : ''
    }, cancelled ${cancelled.length} assignment(s) (${cancelled.length - running} queued, ${running} running). Resume with: gantry resume --all`;
    const askers = [...new Set(rows.map((r) => r.created_by))].filter((id) => id !== caller.id);
    const users = (await Promise.all(askers.map((id) => store.users.get(id)))).filter((u) => u !== undefined);
    const message = await this.deps.messages.send(
      caller,
      { body: summary, ...(users.length ? { to: users.map((u) => u.id) } : {}) },
      { ignoreUnknownMentions: true },
    );
    await activity.append(workspaceStopped, {
      workspaceId: caller.workspaceId,
      actor: { kind: 'user', id: caller.id, name: caller.name },
      subject: summary.slice(0, 200),
      data: { paused, cancelled, messageId: message.id },
    });
    return { paused, cancelled, queued: cancelled.length - running, running, messageId: message.id };
  }

  /** Resumes the agents `stop --all` paused (and no other): their queued work runs again. */
  async resumeAll(caller: Actor): Promise<ResumeAllResult> {
    requireRole(caller, 'admin', 'resume everything');
    const { store, activity } = this.deps;
    const now = Date.now();
    const resumed = await store.transaction(async (tx) => {
      const done = [];
      for (const id of await this.stopped(caller.workspaceId, tx.meta)) {
        const agent = await tx.agents.get(id);
        if (!agent || !(await tx.agents.setPaused(id, false))) continue;
        await tx.assignments.touchQueued(id, now);
        done.push({ id: agent.id, name: agent.name });
      }
      await tx.meta.set(stoppedKey(caller.workspaceId), '[]');
      return done;
    });
    if (resumed.length > 0) {
      await activity.append(workspaceResumed, {
        workspaceId: caller.workspaceId,
        actor: { kind: 'user', id: caller.id, name: caller.name },
        subject: resumed.map((a) => a.name).join(', '),
        data: { resumed },
      });
      for (const agent of resumed) this.deps.dispatcher.queued(agent.id);
    }
    return { resumed };
  }

  private async cancel(caller: Actor, rows: AssignmentRow[]): Promise<string[]> {
    const cancelled: string[] = [];
    for (const row of rows) {
      const done = await this.deps.assignments.cancel(caller, row.id).catch(ignore('conflict')); // it just ended
      if (done) cancelled.push(row.id);
    }
    return cancelled;
  }

  /** Takes a dispatched run's reply over (so it is not posted); undefined when it is not ours to take. */
  private async silence(assignmentId: string): Promise<WorkRow | undefined> {
    const work = await this.deps.store.work.byAssignment(assignmentId);
    if (work?.state !== 'dispatched') return undefined;
    return (await this.deps.store.work.set(keyOf(work), { state: 'finishing' }, 'dispatched'))
      ? work
      : undefined;
  }

  private async stopped(workspaceId: string, meta: Store['meta']): Promise<string[]> {
    return JSON.parse((await meta.get(stoppedKey(workspaceId))) ?? '[]') as string[];
  }
}

function stoppedKey(workspaceId: string): string {
  return `stopped_agents:${workspaceId}`;
}

function ignore(code: string) {
  return (err: unknown): undefined => {
    if (err instanceof GantryError && err.code === code) return undefined;
    throw err;
  };
}
