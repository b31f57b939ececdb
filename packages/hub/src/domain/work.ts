/**
 * Managed agents at work: a message that mentions one, or a task assigned to one, dispatches one
 * assignment for it; when that ends, its result is posted as the agent's reply in the thread and
 * moves the task. Driven by the bus, never by polling: the activity log is read in order from a
 * cursor kept in the store (so a restart picks up where it stopped), and the `work` table makes
 * each dispatch and each reply happen once.
 */
import {
  GantryError,
  isTerminal,
  type AssignmentState,
  type Logger,
  type Message,
  type Party,
  type Task,
} from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import type { Bus } from '../bus.ts';
import type { ActivityTable, WorkTable } from '../store/schema.ts';
import type { AgentRow, AssignmentRow, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import type { Assignments } from './assignments.ts';
import type { Messages } from './messages.ts';
import type { AssignmentOutcome, Tasks } from './tasks.ts';
import { errorLine, mentionPrompt, replyBody, taskPrompt } from './work-prompts.ts';

export interface WorkSettings {
  /** A message this many agent replies deep dispatches nothing (`mention.hop_limit`). */
  hopLimit: number;
}

export const defaultWorkSettings: WorkSettings = { hopLimit: 8 };

export interface WorkDeps {
  store: Store;
  bus: Bus;
  activity: Activity;
  messages: Messages;
  assignments: Assignments;
  tasks: Tasks;
  log: Logger;
}

const triggerTypes = ['message.created', 'task.created', 'task.updated'];
const cursorKey = 'work_cursor';
const batch = 200;

/** A run to start: who asked, for which agent, about what. */
interface Dispatch {
  entry: ActivityTable;
  agent: AgentRow;
  requester: Party;
  prompt: string;
  sessionKey: string;
  message?: { id: string; threadId: string };
  taskId?: string;
}

export class Work {
  private cursor = 0;
  private draining: Promise<void> | undefined;
  private again = false;
  /** Assignments of runs started here and not ended: the only ones whose notices matter. */
  private readonly open = new Set<string>();
  /** Per assignment, the check in progress: notices for one assignment are handled in order. */
  private readonly checks = new Map<string, Promise<void>>();
  /** Assignments whose task was already moved to `in_progress`. */
  private readonly started = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly deps: WorkDeps,
    private readonly settings: WorkSettings = defaultWorkSettings,
  ) {}

  /** Subscribes, then finishes what a previous run of the hub left: runs that ended while it was down. */
  async start(): Promise<void> {
    const { store, bus } = this.deps;
    const saved = await store.getMeta(cursorKey);
    // A first start takes up from now: mentions from before this hub ran work are not replayed.
    this.cursor = saved === undefined ? await this.lastActivityId() : Number(saved);
    if (saved === undefined) await store.setMeta(cursorKey, String(this.cursor));
    await this.recover();
    this.unsubscribe.push(
      bus.on('activity', ({ type }) => {
        if (triggerTypes.includes(type)) this.kick();
      }),
      bus.on('assignment', ({ assignmentId }) => {
        if (this.open.has(assignmentId)) this.check(assignmentId);
      }),
    );
    this.kick();
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  /** Resolves when no dispatch or reply is in progress (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.draining || this.checks.size > 0) {
      await this.draining;
      await Promise.all(this.checks.values());
    }
  }

  // ---- dispatch: the activity log, in order ------------------------------------------------------

  private kick(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        for (;;) {
          const rows = await this.deps.store.db
            .selectFrom('activity')
            .selectAll()
            .where('id', '>', this.cursor)
            .where('type', 'in', triggerTypes)
            .orderBy('id')
            .limit(batch)
            .execute();
          if (rows.length === 0) break;
          for (const row of rows) {
            await this.handle(row).catch((err: unknown) =>
              this.deps.log.error('work dispatch failed', {
                activity: row.id,
                error: (err as Error).message,
              }),
            );
            this.cursor = Number(row.id);
          }
          await this.deps.store.setMeta(cursorKey, String(this.cursor));
        }
      } catch (err) {
        this.deps.log.error('reading the activity log for work failed', { error: (err as Error).message });
      }
    } while (this.again);
  }

  private async handle(entry: ActivityTable): Promise<void> {
    const data = JSON.parse(entry.data) as Record<string, unknown>;
    if (entry.type === 'message.created') {
      await this.onMessage(entry, data.message as Message, Number(data.hops ?? 0));
    } else if (data.dispatch === true) {
      await this.onTask(entry, data.task as Task);
    } else if (entry.type === 'task.updated') {
      await this.onTaskCancelled(entry, data.task as Task, data.changes);
    }
  }

  /** A task cancelled while its run goes on: the run is cancelled too (its gateway stops it). */
  private async onTaskCancelled(entry: ActivityTable, task: Task, changes: unknown): Promise<void> {
    if (task.status !== 'cancelled' || !task.assignmentId) return;
    if (!Array.isArray(changes) || !changes.includes('status')) return;
    const row = await this.deps.store.getAssignment(task.assignmentId);
    if (!row || isTerminal(row.state as AssignmentState)) return;
    const caller = await this.callerOf(task.workspaceId, actorOf(entry) ?? task.createdBy);
    await this.deps.assignments.cancel(caller, row.id).catch((err: unknown) => {
      if (!(err instanceof GantryError && err.code === 'conflict')) throw err; // conflict: it just ended
    });
  }

  /** Each managed agent the message addresses, other than its author, gets one run. */
  private async onMessage(entry: ActivityTable, message: Message, hops: number): Promise<void> {
    for (const party of message.mentions) {
      if (party.kind !== 'agent' || party.id === message.author.id) continue;
      const agent = await this.deps.store.getAgent(party.id);
      if (agent?.kind !== 'managed') continue;
      if (hops >= this.settings.hopLimit) {
        await this.hopLimit(entry, message, agent, hops);
        continue;
      }
      // A message about a task the agent is already running (a task's own message, a handoff's
      // while its run goes on) is part of that one piece of work, not a second run.
      const taskId = typeof message.metadata.taskId === 'string' ? message.metadata.taskId : undefined;
      const task = taskId ? await this.taskRow(taskId, message.workspaceId) : undefined;
      if (task && (await this.busyWith(task, agent.id))) continue;
      await this.dispatch({
        entry,
        agent,
        requester: message.author,
        prompt: await mentionPrompt(this.deps.store, message, Number(entry.id)),
        sessionKey: await this.sessionFor(message, agent.id),
        message: { id: message.id, threadId: message.threadId },
        ...(task?.assignee_id === agent.id ? { taskId: task.id } : {}),
      });
    }
  }

  /** A task assigned to a managed agent (the entry says `dispatch: true`) gets one run. */
  private async onTask(entry: ActivityTable, task: Task): Promise<void> {
    if (task.assignee?.kind !== 'agent') return;
    const agent = await this.deps.store.getAgent(task.assignee.id);
    if (agent?.kind !== 'managed') return;
    const row = await this.taskRow(task.id, task.workspaceId);
    if (!row || row.assignee_id !== agent.id || (await this.busyWith(row, agent.id))) return;
    await this.dispatch({
      entry,
      agent,
      requester: actorOf(entry) ?? task.createdBy,
      prompt: taskPrompt(task),
      sessionKey: `task:${task.id}`,
      taskId: task.id,
    });
  }

  private async dispatch(d: Dispatch): Promise<void> {
    const { assignments, activity, log } = this.deps;
    const now = Date.now();
    const claimed = await this.claim({
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
    });
    if (!claimed) return;
    const key = { trigger: Number(d.entry.id), agentId: d.agent.id };
    let assignment: AssignmentRow;
    try {
      const caller = await this.callerOf(d.entry.workspace_id, d.requester);
      assignment = await assignments.create(caller, {
        agent: d.agent.id,
        prompt: d.prompt,
        sessionKey: d.sessionKey,
        mode: 'continue',
        resumeFallback: 'new',
      });
    } catch (err) {
      log.warn('could not start work for an agent', { agent: d.agent.name, error: (err as Error).message });
      await this.setState(key, { state: 'done' });
      return;
    }
    await this.setState(key, { state: 'dispatched', assignment_id: assignment.id });
    if (d.taskId) await this.deps.tasks.link(d.taskId, { assignmentId: assignment.id });
    if (d.message) {
      await activity.append({
        workspaceId: d.entry.workspace_id,
        type: 'mention.dispatched',
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
    this.open.add(assignment.id);
    // It may have moved on before it was in `open`: look once now.
    this.check(assignment.id);
  }

  /** Says once per (message, agent) that the chain of agent replies stops here. */
  private async hopLimit(
    entry: ActivityTable,
    message: Message,
    agent: AgentRow,
    hops: number,
  ): Promise<void> {
    const now = Date.now();
    const claimed = await this.claim({
      trigger_id: Number(entry.id),
      agent_id: agent.id,
      workspace_id: entry.workspace_id,
      message_id: message.id,
      thread_id: message.threadId,
      task_id: null,
      session_key: '',
      assignment_id: null,
      state: 'hop_limit',
      reply_id: null,
      created_at: now,
      updated_at: now,
    });
    if (!claimed) return;
    await this.deps.activity.append({
      workspaceId: entry.workspace_id,
      type: 'mention.hop_limit',
      actor: message.author,
      subject: message.id,
      data: {
        messageId: message.id,
        agent: { id: agent.id, name: agent.name },
        hops,
        limit: this.settings.hopLimit,
      },
    });
  }

  /**
   * One conversation per agent and thread: a thread the agent already worked in continues that
   * session; a top-level mention continues the agent's conversation with its sender; any other
   * reply in a thread is the thread's own.
   */
  private async sessionFor(message: Message, agentId: string): Promise<string> {
    if (message.parentId === null) return `dm:${message.author.id}`;
    const earlier = await this.deps.store.db
      .selectFrom('work')
      .select('session_key')
      .where('thread_id', '=', message.threadId)
      .where('agent_id', '=', agentId)
      .where('session_key', '!=', '')
      .orderBy('created_at')
      .executeTakeFirst();
    return earlier?.session_key ?? `thread:${message.threadId}`;
  }

  /** Whether the agent has a run on this task that has not ended. */
  private async busyWith(
    task: { id: string; assignment_id: string | null },
    agentId: string,
  ): Promise<boolean> {
    const { store } = this.deps;
    const pending = await store.db
      .selectFrom('work')
      .select('trigger_id')
      .where('task_id', '=', task.id)
      .where('agent_id', '=', agentId)
      .where('state', 'in', ['claimed', 'dispatched'])
      .executeTakeFirst();
    if (pending) return true;
    if (task.assignment_id === null) return false;
    const linked = await store.getAssignment(task.assignment_id);
    return !!linked && linked.agent_id === agentId && !isTerminal(linked.state as AssignmentState);
  }

  // ---- outcomes: the assignment notices ----------------------------------------------------------

  private check(assignmentId: string): void {
    const previous = this.checks.get(assignmentId) ?? Promise.resolve();
    const next = previous
      .then(() => this.follow(assignmentId))
      .catch((err: unknown) =>
        this.deps.log.error('finishing work failed', {
          assignment: assignmentId,
          error: (err as Error).message,
        }),
      )
      .finally(() => {
        if (this.checks.get(assignmentId) === next) this.checks.delete(assignmentId);
      });
    this.checks.set(assignmentId, next);
  }

  private async follow(assignmentId: string): Promise<void> {
    const { store, tasks } = this.deps;
    const work = await store.db
      .selectFrom('work')
      .selectAll()
      .where('assignment_id', '=', assignmentId)
      .executeTakeFirst();
    const row = await store.getAssignment(assignmentId);
    if (!work || !row || work.state !== 'dispatched') {
      this.forget(assignmentId);
      return;
    }
    const state = row.state as AssignmentState;
    if (isTerminal(state)) {
      const key = { trigger: Number(work.trigger_id), agentId: work.agent_id };
      // Whoever moves it to `finishing` posts the reply; a restart finishes what it left there.
      if (await this.setState(key, { state: 'finishing' }, 'dispatched')) await this.finish(work, row);
      this.forget(assignmentId);
      return;
    }
    if ((state === 'starting' || state === 'running') && work.task_id && !this.started.has(assignmentId)) {
      this.started.add(assignmentId);
      await tasks.fromAssignment(work.task_id, { status: 'in_progress', assignmentId });
    }
  }

  /** Moves the task, then posts the reply (once: one already posted is found, not repeated). */
  private async finish(work: WorkTable, row: AssignmentRow): Promise<void> {
    const { store, messages, tasks, log } = this.deps;
    if (work.task_id) {
      await tasks.fromAssignment(work.task_id, taskOutcome(row)).catch((err: unknown) => {
        if (!(err instanceof GantryError && err.code === 'not_found')) throw err;
      });
    }
    let replyId: string | null = null;
    if (work.message_id && work.thread_id) {
      const parent = await messages.row(work.message_id);
      const agent = await store.getAgent(work.agent_id);
      replyId = (await this.postedReply(work, row.id)) ?? null;
      if (!replyId && parent && agent) {
        const reply = await messages.send(
          {
            kind: 'agent',
            id: agent.id,
            name: agent.name,
            workspaceId: work.workspace_id,
            role: null,
            tokenId: '',
          },
          { body: replyBody(row), parentId: parent.id, metadata: { assignmentId: row.id, state: row.state } },
          { hops: parent.hops + 1, ignoreUnknownMentions: true },
        );
        replyId = reply.id;
      }
    }
    await this.setState(
      { trigger: Number(work.trigger_id), agentId: work.agent_id },
      { state: 'done', reply_id: replyId },
    );
    log.debug('work finished', { assignment: row.id, state: row.state, reply: replyId });
  }

  /** The reply already posted for this run, if any (a restart between posting and recording it). */
  private async postedReply(work: WorkTable, assignmentId: string): Promise<string | undefined> {
    const rows = await this.deps.store.db
      .selectFrom('messages')
      .select(['id', 'metadata'])
      .where('thread_id', '=', work.thread_id)
      .where('parent_id', '=', work.message_id)
      .where('author_id', '=', work.agent_id)
      .execute();
    return rows.find(
      (r) => (JSON.parse(r.metadata) as { assignmentId?: unknown }).assignmentId === assignmentId,
    )?.id;
  }

  private forget(assignmentId: string): void {
    this.open.delete(assignmentId);
    this.started.delete(assignmentId);
  }

  // ---- restart ---------------------------------------------------------------------------------

  /**
   * Runs dispatched before a restart are followed again (those that ended meanwhile reply now);
   * a reply cut short is finished; a dispatch cut short before its assignment existed is redone.
   */
  private async recover(): Promise<void> {
    const { store } = this.deps;
    const rows = await store.db
      .selectFrom('work')
      .selectAll()
      .where('state', 'in', ['claimed', 'dispatched', 'finishing'])
      .execute();
    const cut = rows.filter((r) => r.state === 'claimed');
    if (cut.length > 0) {
      const first = Math.min(...cut.map((r) => Number(r.trigger_id)));
      await store.db.deleteFrom('work').where('state', '=', 'claimed').execute();
      this.cursor = Math.min(this.cursor, first - 1);
    }
    for (const work of rows) {
      if (!work.assignment_id) continue;
      if (work.state === 'dispatched') {
        this.open.add(work.assignment_id);
        this.check(work.assignment_id);
      } else if (work.state === 'finishing') {
        const row = await store.getAssignment(work.assignment_id);
        if (row) await this.finish(work, row);
      }
    }
  }

  // ---- store -----------------------------------------------------------------------------------

  private async claim(row: WorkTable): Promise<boolean> {
    const result = await this.deps.store.db
      .insertInto('work')
      .values(row)
      .onConflict((oc) => oc.columns(['trigger_id', 'agent_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  private async setState(
    key: { trigger: number; agentId: string },
    patch: Partial<Pick<WorkTable, 'state' | 'assignment_id' | 'reply_id'>>,
    from?: string,
  ): Promise<boolean> {
    let query = this.deps.store.db
      .updateTable('work')
      .set({ ...patch, updated_at: Date.now() })
      .where('trigger_id', '=', key.trigger)
      .where('agent_id', '=', key.agentId);
    if (from) query = query.where('state', '=', from);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private async lastActivityId(): Promise<number> {
    const row = await this.deps.store.db
      .selectFrom('activity')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  private taskRow(id: string, workspaceId: string) {
    return this.deps.store.db
      .selectFrom('tasks')
      .select(['id', 'assignee_id', 'assignment_id'])
      .where('id', '=', id)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
  }

  /** The party that asked, as a caller: the assignment is created on its behalf. */
  private async callerOf(workspaceId: string, party: Party): Promise<Caller> {
    const role = party.kind === 'user' ? ((await this.deps.store.getUser(party.id))?.role ?? null) : null;
    return { kind: party.kind, id: party.id, name: party.name, role, workspaceId, tokenId: '' };
  }
}

function actorOf(entry: ActivityTable): Party | undefined {
  if (!entry.actor_id || (entry.actor_kind !== 'user' && entry.actor_kind !== 'agent')) return undefined;
  return { kind: entry.actor_kind, id: entry.actor_id, name: entry.actor_name ?? entry.actor_id };
}

/** running -> in_progress, succeeded -> done, cancelled -> cancelled, anything else -> blocked. */
function taskOutcome(row: AssignmentRow): AssignmentOutcome {
  if (row.state === 'succeeded') return { status: 'done', assignmentId: row.id };
  if (row.state === 'cancelled') return { status: 'cancelled', assignmentId: row.id };
  return { status: 'blocked', assignmentId: row.id, error: errorLine(row) };
}
