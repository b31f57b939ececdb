/**
 * Tasks: the workspace's ownership ledger (DESIGN §2). Every change writes the task and its
 * `task.created` / `task.updated` activity entry in one transaction. Assigning a task to a managed
 * agent marks the entry `dispatch: true`; the work dispatcher hears that, runs the assignment and
 * moves the task with `fromAssignment`.
 */
import {
  GantryError,
  taskCreated,
  taskUpdated,
  type Party,
  type Task,
  type TaskField,
} from '@gantry/protocol';
import type { Actor } from './actor.ts';
import { newId } from '../ids.ts';
import type { ActivityTable, TaskTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Activity, Tx } from './activity.ts';
import { chainOf, type ChainRef } from './chains.ts';
import type { Messages } from './messages.ts';
import { iso } from './views.ts';

export interface NewTask {
  title: string;
  body?: string;
  /** An agent or user, by name or id. */
  assignee?: string;
  priority?: Task['priority'];
  intent?: Task['intent'];
}

export interface TaskPatch {
  status?: Task['status'];
  /** An agent or user by name or id; null unassigns. */
  assignee?: string | null;
  priority?: Task['priority'];
  title?: string;
  body?: string;
}

export interface TaskWriteOptions {
  /**
   * False when the work is dispatched another way (a handoff's message): the entry then never
   * says `dispatch: true`, so no second run starts.
   */
  dispatch?: boolean;
  /** The thread about the task (a handoff's). */
  threadId?: string;
}

export interface ListTasks {
  /** Only tasks assigned to the caller. */
  mine?: boolean;
  status?: Task['status'];
  limit?: number;
}

/** What an assignment's outcome makes of its task (the work dispatcher maps states to these). */
export interface AssignmentOutcome {
  status: Task['status'];
  assignmentId: string;
  error?: string | null;
}

/** The view fields a change names in `changes`. */
type Field = TaskField;

export class Tasks {
  constructor(
    private readonly store: Store,
    private readonly activity: Activity,
    private readonly messages: Messages,
  ) {}

  async create(caller: Actor, input: NewTask, options: TaskWriteOptions = {}): Promise<Task> {
    const author = actorOf(caller);
    const assignee = input.assignee ? await this.party(caller.workspaceId, input.assignee) : null;
    const now = Date.now();
    const row: TaskTable = {
      id: newId('tsk', now),
      workspace_id: caller.workspaceId,
      title: input.title,
      body: input.body ?? '',
      status: 'open',
      priority: input.priority ?? 'medium',
      intent: input.intent ?? 'general',
      assignee_id: assignee?.id ?? null,
      created_by_kind: author.kind,
      created_by_id: author.id,
      assignment_id: null,
      thread_id: options.threadId ?? null,
      error: null,
      created_at: now,
      updated_at: now,
    };
    const task = view(row, assignee, author);
    const dispatch = options.dispatch !== false && (await this.isManagedAgent(assignee));
    const entry = await this.store.transaction(async (tx) => {
      await tx.tasks.insert(row);
      return this.record(tx, 'task.created', author, task, [], dispatch && chainOf(caller, row.id), now);
    });
    this.activity.published(entry);
    if (options.dispatch !== false) await this.tell(caller, task, assignee);
    return task;
  }

  /**
   * A task assigned to a person or a pass-through agent (whom no run starts) reaches them as a
   * message, so their inbox shows it; nobody is told of a task they gave themselves.
   */
  private async tell(caller: Actor, task: Task, assignee: Party | null): Promise<void> {
    if (!assignee || assignee.id === caller.id || (await this.isManagedAgent(assignee))) return;
    const agent = assignee.kind === 'agent' ? await this.store.agents.get(assignee.id) : undefined;
    if (agent && agent.kind !== 'pass_through') return; // a service agent reads no mail
    await this.messages.send(
      caller,
      {
        body: `Task ${task.id} for you (${task.priority}): ${task.title}${task.body ? `\n\n${task.body}` : ''}`,
        to: [assignee.id],
        metadata: { taskId: task.id },
      },
      { ignoreUnknownMentions: true },
    );
  }

  async list(caller: Actor, options: ListTasks = {}): Promise<Task[]> {
    actorOf(caller);
    const rows = await this.store.tasks.list(caller.workspaceId, {
      ...(options.mine ? { assigneeId: caller.id } : {}),
      ...(options.status ? { status: options.status } : {}),
      limit: options.limit,
    });
    return this.views(caller.workspaceId, rows);
  }

  async get(caller: Actor, id: string): Promise<Task> {
    actorOf(caller);
    const row = await this.row(caller.workspaceId, id);
    if (!row) throw notFound(id);
    return (await this.views(caller.workspaceId, [row]))[0] as Task;
  }

  /** Changes what the caller asked; no entry when nothing actually changed. */
  async update(caller: Actor, id: string, patch: TaskPatch, options: TaskWriteOptions = {}): Promise<Task> {
    const actor = actorOf(caller);
    const assignee =
      patch.assignee === undefined
        ? undefined
        : patch.assignee === null
          ? null
          : await this.party(caller.workspaceId, patch.assignee);
    const dispatchable = options.dispatch !== false && (await this.isManagedAgent(assignee ?? null));
    const before = assignee ? await this.row(caller.workspaceId, id) : undefined;
    const task = await this.change(caller.workspaceId, id, actor, chainOf(caller, id), (row) => {
      const next: Partial<TaskTable> = {};
      if (patch.title !== undefined) next.title = patch.title;
      if (patch.body !== undefined) next.body = patch.body;
      if (patch.priority !== undefined) next.priority = patch.priority;
      if (patch.status !== undefined) {
        next.status = patch.status;
        // The reason it was blocked no longer holds once someone moves it on.
        if (patch.status !== 'blocked') next.error = null;
      }
      // Assigning a finished task to its managed agent again runs it again.
      const rerun = dispatchable && assignee?.id === row.assignee_id && finished.includes(row.status);
      if (assignee !== undefined) {
        next.assignee_id = assignee?.id ?? null;
        // The run belonged to the previous assignee (or ended): its outcome no longer moves this task.
        if (assignee?.id !== row.assignee_id || rerun) next.assignment_id = null;
      }
      if (rerun && patch.status === undefined) {
        next.status = 'open';
        next.error = null;
      }
      if (options.threadId !== undefined) next.thread_id = options.threadId;
      return {
        next,
        dispatch: (changed) => dispatchable && (rerun || changed.includes('assignee')),
        always: rerun,
      };
    });
    // Handed to someone new: a person or pass-through agent hears of it.
    if (assignee && options.dispatch !== false && before?.assignee_id !== assignee.id)
      await this.tell(caller, task, assignee);
    return task;
  }

  /**
   * Moves a task by its assignment's outcome (running, succeeded, failed...), as the agent that ran
   * it. An outcome of an assignment the task has moved on from (reassigned) changes nothing and
   * returns undefined.
   */
  async fromAssignment(taskId: string, outcome: AssignmentOutcome): Promise<Task | undefined> {
    const assignment = await this.store.assignments.get(outcome.assignmentId);
    const task = await this.store.tasks.get(taskId);
    if (!task) throw notFound(taskId);
    const agent = assignment ? await this.store.agents.get(assignment.agent_id) : undefined;
    const actor: Party | null = agent ? { kind: 'agent', id: agent.id, name: agent.name } : null;
    let stale = false;
    const result = await this.change(task.workspace_id, taskId, actor, undefined, (row) => {
      const moved =
        (row.assignment_id !== null && row.assignment_id !== outcome.assignmentId) ||
        (assignment !== undefined && assignment.agent_id !== row.assignee_id);
      if (moved) {
        stale = true;
        return { next: {} };
      }
      return {
        next: {
          status: outcome.status,
          assignment_id: outcome.assignmentId,
          error: outcome.status === 'blocked' ? (outcome.error ?? 'the assignment did not succeed') : null,
        },
      };
    });
    return stale ? undefined : result;
  }

  /** Records the assignment or thread working on a task (set by the work dispatcher or a handoff). */
  async link(taskId: string, refs: { assignmentId?: string; threadId?: string }): Promise<Task> {
    const task = await this.store.tasks.get(taskId);
    if (!task) throw notFound(taskId);
    return this.change(task.workspace_id, taskId, null, undefined, () => ({
      next: {
        ...(refs.assignmentId === undefined ? {} : { assignment_id: refs.assignmentId }),
        ...(refs.threadId === undefined ? {} : { thread_id: refs.threadId }),
      },
    }));
  }

  /**
   * Reads the task, applies `edit`'s columns and writes them with a `task.updated` entry, in one
   * transaction (the row locked on PostgreSQL; SQLite runs one writer at a time).
   */
  private async change(
    workspaceId: string,
    id: string,
    actor: Party | null,
    /** Where a run the change asks for sits (the changer's chain). */
    chain: ChainRef | undefined,
    edit: (row: TaskTable) => {
      next: Partial<TaskTable>;
      dispatch?: (changed: Field[]) => boolean;
      /** Record an entry even when no field changes (a run asked for again). */
      always?: boolean;
    },
  ): Promise<Task> {
    const now = Date.now();
    const done = await this.store.transaction(async (tx) => {
      const row = await tx.tasks.forUpdate(workspaceId, id);
      if (!row) throw notFound(id);
      const { next, dispatch, always } = edit(row);
      const changed = changedFields(row, next);
      if (changed.length === 0 && !always) return { row, entry: undefined };
      const updated: TaskTable = { ...row, ...next, updated_at: now };
      await tx.tasks.update(id, { ...next, updated_at: now });
      const [task] = await this.views(workspaceId, [updated], tx);
      const entry = await this.record(
        tx,
        'task.updated',
        actor,
        task as Task,
        changed,
        (dispatch?.(changed) ?? false) && chain,
        now,
      );
      return { row: updated, entry, task };
    });
    if (done.entry) this.activity.published(done.entry);
    return done.task ?? ((await this.views(workspaceId, [done.row]))[0] as Task);
  }

  private record(
    trx: Tx,
    type: 'task.created' | 'task.updated',
    actor: Party | null,
    task: Task,
    changes: Field[],
    /** The chain of the run it asks for; false when it asks for none. */
    dispatch: ChainRef | false | undefined,
    now: number,
  ): Promise<ActivityTable> {
    return this.activity.record(
      trx,
      type === 'task.created' ? taskCreated : taskUpdated,
      {
        workspaceId: task.workspaceId,
        actor,
        subject: task.id,
        data: { task, changes },
        ...(dispatch ? { internal: { dispatch: true, ...dispatch } } : {}),
      },
      now,
    );
  }

  private row(workspaceId: string, id: string): Promise<TaskTable | undefined> {
    return this.store.tasks.get(id, workspaceId);
  }

  /** An assignee: a user or an agent that can work (a service account only sends). */
  private async party(workspaceId: string, ref: string): Promise<Party> {
    const [party] = await this.messages.resolve(workspaceId, [ref]);
    if (party?.kind === 'agent' && (await this.store.agents.get(party.id))?.kind === 'service') {
      throw new GantryError(
        'invalid_request',
        `agent '${party.name}' is a service account: it sends messages but never works on tasks`,
      );
    }
    return party as Party;
  }

  private async isManagedAgent(party: Party | null): Promise<boolean> {
    if (party?.kind !== 'agent') return false;
    return (await this.store.agents.get(party.id))?.kind === 'managed';
  }

  /** Rows as views, with the names of assignees and authors (agents or users). */
  private async views(workspaceId: string, rows: TaskTable[], tx: Tx = this.store): Promise<Task[]> {
    const ids = [
      ...new Set(rows.flatMap((r) => [r.assignee_id, r.created_by_id]).filter((id) => id !== null)),
    ];
    const parties = await tx.tasks.parties(workspaceId, ids);
    const known = (id: string, kind: Party['kind']): Party => parties.get(id) ?? { kind, id, name: id };
    return rows.map((row) =>
      view(
        row,
        row.assignee_id === null ? null : known(row.assignee_id, 'agent'),
        known(row.created_by_id, row.created_by_kind as Party['kind']),
      ),
    );
  }
}

/** Statuses whose run (if any) has ended. */
const finished: readonly string[] = ['blocked', 'cancelled', 'done'];

const columns: Record<Field, keyof TaskTable> = {
  title: 'title',
  body: 'body',
  status: 'status',
  priority: 'priority',
  assignee: 'assignee_id',
  error: 'error',
  assignmentId: 'assignment_id',
  threadId: 'thread_id',
};

function changedFields(row: TaskTable, next: Partial<TaskTable>): Field[] {
  return (Object.keys(columns) as Field[]).filter((field) => {
    const column = columns[field];
    return column in next && next[column] !== row[column];
  });
}

function actorOf(caller: Actor): Party {
  if (caller.kind === 'gateway')
    throw new GantryError('forbidden', 'a gateway token cannot use tasks: use a user token or an agent key');
  return { kind: caller.kind, id: caller.id, name: caller.name };
}

function notFound(id: string): GantryError {
  return new GantryError('not_found', `no task ${id} (see \`gantry tasks list\`)`);
}

function view(row: TaskTable, assignee: Party | null, createdBy: Party): Task {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    title: row.title,
    body: row.body,
    status: row.status as Task['status'],
    priority: row.priority as Task['priority'],
    intent: row.intent as Task['intent'],
    assignee,
    createdBy,
    assignmentId: row.assignment_id,
    threadId: row.thread_id,
    error: row.error,
    createdAt: iso(row.created_at) as string,
    updatedAt: iso(row.updated_at) as string,
  };
}
