/**
 * The work dispatcher's records: one `work` row per (trigger entry, agent), so each dispatch and
 * each reply happens once, plus the reads of the activity log, tasks and messages it decides by.
 */
import type { ActivityTable, WorkTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

/** The entry types that can start work. */
export const triggerTypes = ['message.created', 'task.created', 'task.updated'];

/** A work row's identity: the entry that asked, and the agent asked. */
export interface WorkKey {
  trigger: number;
  agentId: string;
}

export type WorkPatch = Partial<Pick<WorkTable, 'state' | 'assignment_id' | 'reply_id'>>;

export class WorkLedger {
  constructor(private readonly store: Store) {}

  /** Trigger entries after `cursor`, oldest first. */
  triggersAfter(cursor: number, limit: number): Promise<ActivityTable[]> {
    return this.store.db
      .selectFrom('activity')
      .selectAll()
      .where('id', '>', cursor)
      .where('type', 'in', triggerTypes)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** The newest id of the whole log (0 when empty). */
  async lastActivityId(): Promise<number> {
    const row = await this.store.db
      .selectFrom('activity')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /** Records the work once: false when this entry already asked this agent. */
  async claim(row: WorkTable): Promise<boolean> {
    const result = await this.store.db
      .insertInto('work')
      .values(row)
      .onConflict((oc) => oc.columns(['trigger_id', 'agent_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Moves a row on (only from state `from`, when given); false when it was not there. */
  async set(key: WorkKey, patch: WorkPatch, from?: string): Promise<boolean> {
    let query = this.store.db
      .updateTable('work')
      .set({ ...patch, updated_at: Date.now() })
      .where('trigger_id', '=', key.trigger)
      .where('agent_id', '=', key.agentId);
    if (from) query = query.where('state', '=', from);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  byAssignment(assignmentId: string): Promise<WorkTable | undefined> {
    return this.store.db
      .selectFrom('work')
      .selectAll()
      .where('assignment_id', '=', assignmentId)
      .executeTakeFirst();
  }

  /** Work not yet done: claimed, dispatched, or with its reply being posted. */
  unfinished(): Promise<WorkTable[]> {
    return this.store.db
      .selectFrom('work')
      .selectAll()
      .where('state', 'in', ['claimed', 'dispatched', 'finishing'])
      .execute();
  }

  /** Forgets claims whose assignment was never made (their entries are read again). */
  async dropClaimed(): Promise<void> {
    await this.store.db.deleteFrom('work').where('state', '=', 'claimed').execute();
  }

  /** The session of the agent's first run in a thread, if it had one. */
  async threadSession(threadId: string, agentId: string): Promise<string | undefined> {
    const earlier = await this.store.db
      .selectFrom('work')
      .select('session_key')
      .where('thread_id', '=', threadId)
      .where('agent_id', '=', agentId)
      .where('session_key', '!=', '')
      .orderBy('created_at')
      .executeTakeFirst();
    return earlier?.session_key;
  }

  /** Whether a run of the agent on this task is claimed or dispatched and not finished. */
  async pendingOnTask(taskId: string, agentId: string): Promise<boolean> {
    const pending = await this.store.db
      .selectFrom('work')
      .select('trigger_id')
      .where('task_id', '=', taskId)
      .where('agent_id', '=', agentId)
      .where('state', 'in', ['claimed', 'dispatched'])
      .executeTakeFirst();
    return pending !== undefined;
  }

  task(id: string, workspaceId: string) {
    return this.store.db
      .selectFrom('tasks')
      .select(['id', 'assignee_id', 'assignment_id'])
      .where('id', '=', id)
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
  }

  /** The reply already posted for this run, if any (a restart between posting and recording it). */
  async postedReply(work: WorkTable, assignmentId: string): Promise<string | undefined> {
    const rows = await this.store.db
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
}

export function keyOf(work: WorkTable): WorkKey {
  return { trigger: Number(work.trigger_id), agentId: work.agent_id };
}
