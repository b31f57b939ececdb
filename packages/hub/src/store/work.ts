/**
 * The work dispatcher's records: one row per (trigger entry, agent), so each dispatch and each
 * reply happens once. States: `claimed` -> `dispatched` -> `finishing` -> `done`, or `chain_limit` for a
 * trigger its chain's limits stopped (`hop_limit` before chains).
 */
import type { Db } from './db.ts';
import type { WorkTable } from './schema.ts';

export type WorkRow = WorkTable;

/** A work row's identity: the entry that asked, and the agent asked. */
export interface WorkKey {
  trigger: number;
  agentId: string;
}

export type WorkPatch = Partial<Pick<WorkRow, 'state' | 'assignment_id' | 'reply_id'>>;

export class WorkRepository {
  constructor(private readonly db: Db) {}

  /** Records the work once: false when this entry already asked this agent. */
  async claim(row: WorkRow): Promise<boolean> {
    const result = await this.db
      .insertInto('work')
      .values(row)
      // Either key: (entry, agent), or (message, agent) whichever entry or hub asks.
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Moves a row on (only from state `from`, when given); false when it was not there. */
  async set(key: WorkKey, patch: WorkPatch, from?: string): Promise<boolean> {
    let query = this.db
      .updateTable('work')
      .set({ ...patch, updated_at: Date.now() })
      .where('trigger_id', '=', key.trigger)
      .where('agent_id', '=', key.agentId);
    if (from) query = query.where('state', '=', from);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  byAssignment(assignmentId: string): Promise<WorkRow | undefined> {
    return this.db
      .selectFrom('work')
      .selectAll()
      .where('assignment_id', '=', assignmentId)
      .executeTakeFirst();
  }

  /** Work not yet done: claimed, dispatched, or with its reply being posted. */
  unfinished(): Promise<WorkRow[]> {
    return this.db
      .selectFrom('work')
      .selectAll()
      .where('state', 'in', ['claimed', 'dispatched', 'finishing'])
      .execute();
  }

  /** The triggers a chain's limits stopped, oldest first. */
  stopped(chainId: string): Promise<WorkRow[]> {
    return this.db
      .selectFrom('work')
      .selectAll()
      .where('chain_id', '=', chainId)
      .where('state', '=', 'chain_limit')
      .orderBy('trigger_id')
      .execute();
  }

  /** Forgets a stopped trigger so its entry may ask again (once: false when another did first). */
  async release(key: WorkKey): Promise<boolean> {
    const result = await this.db
      .deleteFrom('work')
      .where('trigger_id', '=', key.trigger)
      .where('agent_id', '=', key.agentId)
      .where('state', '=', 'chain_limit')
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Forgets claims whose assignment was never made (their entries are read again). */
  async dropClaimed(): Promise<void> {
    await this.db.deleteFrom('work').where('state', '=', 'claimed').execute();
  }

  /** The session of the agent's first run in a thread, if it had one. */
  async threadSession(threadId: string, agentId: string): Promise<string | undefined> {
    const earlier = await this.db
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
    const pending = await this.db
      .selectFrom('work')
      .select('trigger_id')
      .where('task_id', '=', taskId)
      .where('agent_id', '=', agentId)
      .where('state', 'in', ['claimed', 'dispatched'])
      .executeTakeFirst();
    return pending !== undefined;
  }
}

export function keyOf(work: WorkRow): WorkKey {
  return { trigger: Number(work.trigger_id), agentId: work.agent_id };
}
