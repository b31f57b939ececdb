/**
 * What starts work: the activity log read in order from a cursor kept in the store (a restart
 * picks up where it stopped). A message that may run a managed agent (a person's that addresses
 * it, an agent's that names it), or a task assigned to one (its entry asks for a dispatch), starts
 * one assignment for it, one deeper in the chain, unless the chain is at its limits; a task
 * cancelled while its run goes on cancels the run; `chain.continued` runs what a limit stopped.
 *
 * The cursor is saved at once past an entry that started, cancelled or let go of anything; past
 * entries that did nothing (most messages) within a second and at stop, so a hub that dies reads
 * those again, and they do nothing again (each run is claimed once).
 */
import {
  GantryError,
  isTerminal,
  mentionDispatched,
  type ActivityData,
  type chainContinued,
  type AssignmentState,
  type Logger,
  type Message,
  type Party,
  type Task,
  type messageCreated,
  type taskUpdated,
} from '@gantry/protocol';
import type { Actor } from './actor.ts';
import type { ActivityRow as ActivityTable } from '../store/activity.ts';
import { keyOf } from '../store/work.ts';
import type { AgentRow, AssignmentRow, Store } from '../store/store.ts';
import { internalOf, type Activity } from './activity.ts';
import type { Assignments } from './assignments.ts';
import type { Tasks } from './tasks.ts';
import type { ChainLimits } from './chain-limits.ts';
import { recordRoot, type ChainRef } from './chains.ts';
import { mentionPrompt, taskPrompt } from './work-prompts.ts';

export interface TriggerDeps {
  store: Store;
  activity: Activity;
  assignments: Assignments;
  tasks: Tasks;
  /** Whether a run may start in its chain, and what is said when it may not. */
  limits: ChainLimits;
  log: Logger;
}

/** The entry types that can start work. */
export const triggerTypes = ['message.created', 'task.created', 'task.updated', 'chain.continued'];

const cursorKey = 'work_cursor';
const batch = 200;
const saveIdleCursorMs = 1000;

/** A run to start: who asked, for which agent, about what. */
interface Dispatch {
  entry: ActivityTable;
  agent: AgentRow;
  requester: Party;
  prompt: string;
  sessionKey: string;
  message?: { id: string; threadId: string };
  taskId?: string;
  /** Where the run sits: its trigger's chain, one deeper than what asked for it. */
  step: ChainRef;
}

export class WorkTriggers {
  /** The id of the last entry handled. */
  cursor = 0;
  private draining: Promise<void> | undefined;
  private again = false;
  /** The cursor as the store has it, and whether an entry just handled acted on anything. */
  private saved = 0;
  private acted = false;
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: TriggerDeps,
    /** Called with each assignment started, to follow it to its reply. */
    private readonly started: (assignmentId: string) => void,
  ) {}

  /** Reads the saved cursor; a first start takes up from now (earlier mentions are not replayed). */
  async load(): Promise<void> {
    const { store } = this.deps;
    const saved = await store.meta.get(cursorKey);
    this.cursor = saved === undefined ? await store.activity.lastId() : Number(saved);
    if (saved === undefined) await store.meta.set(cursorKey, String(this.cursor));
    this.saved = this.cursor;
  }

  /** Saves the cursor if it moved (the timer's, and the hub's at stop, after `idle`). */
  async saveCursor(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (this.cursor === this.saved) return;
    const cursor = this.cursor;
    await this.deps.store.meta.set(cursorKey, String(cursor));
    this.saved = cursor;
  }

  /** Stops the timed save (the hub then calls `saveCursor` once nothing is in progress). */
  stop(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
  }

  /** Reads the log again from before `id` (a dispatch a restart cut short). */
  rewind(id: number): void {
    this.cursor = Math.min(this.cursor, id - 1);
  }

  kick(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  get busy(): boolean {
    return this.draining !== undefined;
  }

  /** Resolves when no entry is being handled. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        for (;;) {
          const rows = await this.deps.store.activity.ofTypes(triggerTypes, this.cursor, batch);
          if (rows.length === 0) break;
          this.acted = false;
          for (const row of rows) {
            await this.handle(row).catch((err: unknown) =>
              this.deps.log.error('work dispatch failed', {
                activity: row.id,
                error: (err as Error).message,
              }),
            );
            this.cursor = Number(row.id);
          }
          if (this.acted) await this.saveCursor();
          else this.saveSoon();
          // A short batch reached the end: an entry committed since was published, and set `again`.
          if (rows.length < batch) break;
        }
      } catch (err) {
        this.deps.log.error('reading the activity log for work failed', { error: (err as Error).message });
      }
    } while (this.again);
  }

  private saveSoon(): void {
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      void this.saveCursor().catch((err: unknown) =>
        this.deps.log.warn('saving the work cursor failed', { error: (err as Error).message }),
      );
    }, saveIdleCursorMs).unref();
  }

  private async handle(entry: ActivityTable): Promise<void> {
    if (entry.type === 'chain.continued') {
      const { chainId } = JSON.parse(entry.data) as ActivityData<typeof chainContinued>;
      return this.onContinued(chainId);
    }
    const internal = internalOf(entry);
    if (entry.type === 'message.created') {
      const { message } = JSON.parse(entry.data) as ActivityData<typeof messageCreated>;
      // Entries from before chains: the message is its own root, `hops` deep.
      const source = {
        chainId: internal.chainId ?? message.id,
        depth: internal.depth ?? internal.hops ?? 0,
        ...(internal.cause ? { cause: internal.cause } : {}),
      };
      const wakes = internal.wakes ?? message.mentions.map((p) => p.id);
      await this.onMessage(entry, message, source, wakes);
      return;
    }
    // `task.created` and `task.updated` carry the same data.
    const { task, changes } = JSON.parse(entry.data) as ActivityData<typeof taskUpdated>;
    const source = {
      chainId: internal.chainId ?? task.id,
      depth: internal.depth ?? 0,
      ...(internal.cause ? { cause: internal.cause } : {}),
    };
    if (internal.dispatch) await this.onTask(entry, task, source);
    else if (entry.type === 'task.updated') await this.onTaskCancelled(entry, task, changes);
  }

  /** A task cancelled while its run goes on: the run is cancelled too (its gateway stops it). */
  private async onTaskCancelled(entry: ActivityTable, task: Task, changes: string[]): Promise<void> {
    if (task.status !== 'cancelled' || !task.assignmentId || !changes.includes('status')) return;
    const row = await this.deps.store.assignments.get(task.assignmentId);
    if (!row || isTerminal(row.state as AssignmentState)) return;
    this.acted = true;
    const actor = await this.actorOf(task.workspaceId, requesterOf(entry) ?? task.createdBy);
    await this.deps.assignments.cancel(actor, row.id).catch((err: unknown) => {
      if (!(err instanceof GantryError && err.code === 'conflict')) throw err; // conflict: it just ended
    });
  }

  /** Each managed agent the message may run (`wakes`), other than its author, gets one run. */
  private async onMessage(
    entry: ActivityTable,
    message: Message,
    source: ChainRef,
    wakes: string[],
  ): Promise<void> {
    for (const party of message.mentions) {
      if (party.kind !== 'agent' || party.id === message.author.id || !wakes.includes(party.id)) continue;
      const agent = await this.deps.store.agents.get(party.id);
      if (agent?.kind !== 'managed') continue;
      // A message about a task the agent is already running (a task's own message, a handoff's
      // while its run goes on) is part of that one piece of work, not a second run.
      const taskId = typeof message.metadata.taskId === 'string' ? message.metadata.taskId : undefined;
      const task = taskId ? await this.deps.store.tasks.get(taskId, message.workspaceId) : undefined;
      if (task && (await this.busyWith(task, agent.id))) continue;
      // The agent's own task (a handoff, each round of its loop) is one conversation: `task:<id>`.
      const own = task?.assignee_id === agent.id ? task : undefined;
      await this.dispatch({
        entry,
        agent,
        requester: message.author,
        prompt: await mentionPrompt(this.deps.store, message, Number(entry.id)),
        sessionKey: own ? `task:${own.id}` : await this.sessionFor(message, agent.id),
        message: { id: message.id, threadId: message.threadId },
        ...(own ? { taskId: own.id } : {}),
        step: { ...source, depth: source.depth + 1 },
      });
    }
  }

  /** A task assigned to a managed agent gets one run. */
  private async onTask(entry: ActivityTable, task: Task, source: ChainRef): Promise<void> {
    if (task.assignee?.kind !== 'agent') return;
    const agent = await this.deps.store.agents.get(task.assignee.id);
    if (agent?.kind !== 'managed') return;
    const row = await this.deps.store.tasks.get(task.id, task.workspaceId);
    if (!row || row.assignee_id !== agent.id || (await this.busyWith(row, agent.id))) return;
    await this.dispatch({
      entry,
      agent,
      requester: requesterOf(entry) ?? task.createdBy,
      prompt: taskPrompt(task),
      sessionKey: `task:${task.id}`,
      taskId: task.id,
      step: { ...source, depth: source.depth + 1 },
    });
  }

  private async dispatch(d: Dispatch): Promise<void> {
    const { assignments, activity, log } = this.deps;
    const now = Date.now();
    const claimed = await this.deps.store.work.claim({
      trigger_id: Number(d.entry.id),
      agent_id: d.agent.id,
      workspace_id: d.entry.workspace_id,
      message_id: d.message?.id ?? null,
      thread_id: d.message?.threadId ?? null,
      task_id: d.taskId ?? null,
      session_key: d.sessionKey,
      assignment_id: null,
      state: 'claimed',
      reply_id: null,
      created_at: now,
      updated_at: now,
      chain_id: d.step.chainId,
      depth: d.step.depth,
    });
    if (!claimed) return;
    this.acted = true;
    const key = { trigger: Number(d.entry.id), agentId: d.agent.id };
    // The first run of a chain: its root (the message or task) and the person who made it.
    if (d.step.depth === 1)
      await recordRoot(this.deps.store, {
        id: d.step.chainId,
        workspaceId: d.entry.workspace_id,
        kind: d.message && d.step.chainId === d.message.id ? 'message' : d.taskId ? 'task' : 'trigger',
        person: d.requester.kind === 'user' ? d.requester : null,
      });
    const admission = await this.deps.limits.admit(d.step);
    if (!admission.ok) {
      // Said once: only the claim's winner gets here; `chains continue` releases it.
      await this.deps.store.work.set(key, { state: 'chain_limit' });
      const stop = {
        workspaceId: d.entry.workspace_id,
        step: d.step,
        agent: { id: d.agent.id, name: d.agent.name },
        by: d.requester,
        ...(d.message ? { messageId: d.message.id } : {}),
        ...(d.taskId ? { taskId: d.taskId } : {}),
      };
      await this.deps.limits.stopped(stop, admission);
      return;
    }
    let assignment: AssignmentRow;
    try {
      const actor = await this.actorOf(d.entry.workspace_id, d.requester);
      assignment = await assignments.create(
        actor,
        {
          agent: d.agent.id,
          prompt: d.prompt,
          sessionKey: d.sessionKey,
          mode: 'continue',
          resumeFallback: 'new',
        },
        d.step,
      );
    } catch (err) {
      log.warn('could not start work for an agent', { agent: d.agent.name, error: (err as Error).message });
      await this.deps.store.work.set(key, { state: 'done' });
      return;
    }
    await this.deps.store.work.set(key, { state: 'dispatched', assignment_id: assignment.id });
    if (d.taskId) await this.deps.tasks.link(d.taskId, { assignmentId: assignment.id });
    if (d.message) {
      await activity.append(mentionDispatched, {
        workspaceId: d.entry.workspace_id,
        actor: d.requester,
        subject: d.message.id,
        data: {
          messageId: d.message.id,
          agent: { id: d.agent.id, name: d.agent.name },
          assignmentId: assignment.id,
          sessionKey: d.sessionKey,
          ...(d.taskId ? { taskId: d.taskId } : {}),
        },
      });
    }
    log.debug('work dispatched', { agent: d.agent.name, assignment: assignment.id });
    this.started(assignment.id);
  }

  /** A stopped chain let go on: each trigger its limits stopped asks again (once, whichever hub). */
  private async onContinued(chainId: string): Promise<void> {
    const { store } = this.deps;
    for (const row of await store.work.stopped(chainId)) {
      if (!(await store.work.release(keyOf(row)))) continue;
      this.acted = true;
      const trigger = await store.activity.get(Number(row.trigger_id));
      if (trigger) await this.handle(trigger);
    }
  }

  /**
   * One conversation per agent and thread: a thread the agent already worked in continues that
   * session; a top-level mention continues the agent's conversation with its sender; any other
   * reply in a thread is the thread's own.
   */
  private async sessionFor(message: Message, agentId: string): Promise<string> {
    if (message.parentId === null) return `dm:${message.author.id}`;
    return (
      (await this.deps.store.work.threadSession(message.threadId, agentId)) ?? `thread:${message.threadId}`
    );
  }

  /** Whether the agent has a run on this task that has not ended. */
  private async busyWith(
    task: { id: string; assignment_id: string | null },
    agentId: string,
  ): Promise<boolean> {
    if (await this.deps.store.work.pendingOnTask(task.id, agentId)) return true;
    if (task.assignment_id === null) return false;
    const linked = await this.deps.store.assignments.get(task.assignment_id);
    return !!linked && linked.agent_id === agentId && !isTerminal(linked.state as AssignmentState);
  }

  /** The party that asked, as the actor its run is created for (a user with their role now). */
  private async actorOf(workspaceId: string, party: Party): Promise<Actor> {
    const role = party.kind === 'user' ? ((await this.deps.store.users.get(party.id))?.role ?? null) : null;
    return { kind: party.kind, id: party.id, name: party.name, role, workspaceId };
  }
}

/** Who made the entry, when a user or an agent did. */
function requesterOf(entry: ActivityTable): Party | undefined {
  if (!entry.actor_id || (entry.actor_kind !== 'user' && entry.actor_kind !== 'agent')) return undefined;
  return { kind: entry.actor_kind, id: entry.actor_id, name: entry.actor_name ?? entry.actor_id };
}
