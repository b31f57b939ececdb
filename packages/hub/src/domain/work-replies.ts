/**
 * The outcome of dispatched work: as its assignment moves, the task follows (`in_progress`, then
 * done, blocked or cancelled), and once it ends its result is posted as the agent's reply in the
 * thread, once: whoever moves the work row to `finishing` posts it, and a reply already posted is
 * found rather than repeated.
 */
import {
  GantryError,
  isTerminal,
  messageRead,
  type AssignmentState,
  type Logger,
  type Party,
} from '@gantry/protocol';
import { keyOf, type WorkRow as WorkTable } from '../store/work.ts';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import type { Messages } from './messages.ts';
import type { AssignmentOutcome, Tasks } from './tasks.ts';
import { endsWithoutReply, errorLine, replyBody } from './work-prompts.ts';

export interface ReplyDeps {
  store: Store;
  messages: Messages;
  tasks: Tasks;
  activity: Activity;
  log: Logger;
}

export class WorkReplies {
  /** Assignments of runs started here and not ended: the only ones whose notices matter. */
  private readonly open = new Set<string>();
  /** Per assignment, the check in progress: notices for one assignment are handled in order. */
  private readonly checks = new Map<string, Promise<void>>();
  /** Assignments seen starting: their task moved to `in_progress`, their message read. */
  private readonly started = new Set<string>();

  constructor(private readonly deps: ReplyDeps) {}

  /** Follows a dispatched run from now on, looking once at once (it may have moved already). */
  follow(assignmentId: string): void {
    this.open.add(assignmentId);
    this.check(assignmentId);
  }

  /** An assignment changed: looked at if it is one of ours. */
  changed(assignmentId: string): void {
    if (this.open.has(assignmentId)) this.check(assignmentId);
  }

  /** Looks at every followed run again (notices may have been lost). */
  recheck(): void {
    for (const id of this.open) this.check(id);
  }

  get busy(): boolean {
    return this.checks.size > 0;
  }

  /** Resolves when no check is in progress. */
  async idle(): Promise<void> {
    while (this.checks.size > 0) await Promise.all(this.checks.values());
  }

  /** Moves the task, then posts the reply (once: one already posted is found, not repeated). */
  async finish(work: WorkTable, row: AssignmentRow): Promise<void> {
    const { store, messages, tasks, log } = this.deps;
    // A loop round that ran leaves its task in progress: the loop's end moves it (Handoffs).
    if (work.task_id && !(row.state === 'succeeded' && (await this.loopRound(work)))) {
      await tasks.fromAssignment(work.task_id, taskOutcome(row)).catch((err: unknown) => {
        if (!(err instanceof GantryError && err.code === 'not_found')) throw err;
      });
    }
    let replyId: string | null = null;
    // A run may end without a reply: it still succeeded, and nothing is posted.
    if (work.message_id && work.thread_id && !endsWithoutReply(row)) {
      const parent = await messages.row(work.message_id);
      const agent = await store.agents.get(work.agent_id);
      replyId = (await this.postedReply(work, row.id)) ?? null;
      if (!replyId && parent && agent) {
        // Posted for the run, in its chain: it runs nobody by being a reply, only by its own @mentions.
        const run = { assignmentId: row.id, agentId: agent.id, chainId: row.chain_id, depth: row.depth };
        const reply = await messages.send(
          { kind: 'agent', id: agent.id, name: agent.name, workspaceId: work.workspace_id, role: null, run },
          { body: replyBody(row), parentId: parent.id, metadata: { assignmentId: row.id, state: row.state } },
          { ignoreUnknownMentions: true },
        );
        replyId = reply.id;
      }
    }
    await this.deps.store.work.set(keyOf(work), { state: 'done', reply_id: replyId });
    log.debug('work finished', { assignment: row.id, state: row.state, reply: replyId });
  }

  /** Whether the run answered a message of a `--loop` handoff (its first one or a later round). */
  private async loopRound(work: WorkTable): Promise<boolean> {
    const message = work.message_id ? await this.deps.messages.row(work.message_id) : undefined;
    if (!message) return false;
    const { handoff } = JSON.parse(message.metadata) as { handoff?: { loop?: unknown } };
    return !!handoff?.loop;
  }

  /** The reply already posted for this run, if any (a restart between posting and recording it). */
  private async postedReply(work: WorkTable, assignmentId: string): Promise<string | undefined> {
    if (!work.thread_id || !work.message_id) return undefined;
    const rows = await this.deps.store.messages.repliesBy(work.thread_id, work.message_id, work.agent_id);
    return rows.find(
      (r) => (JSON.parse(r.metadata) as { assignmentId?: unknown }).assignmentId === assignmentId,
    )?.id;
  }

  private check(assignmentId: string): void {
    const previous = this.checks.get(assignmentId) ?? Promise.resolve();
    const next = previous
      .then(() => this.look(assignmentId))
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

  private async look(assignmentId: string): Promise<void> {
    const work = await this.deps.store.work.byAssignment(assignmentId);
    const row = await this.deps.store.assignments.get(assignmentId);
    if (!work || !row || work.state !== 'dispatched') {
      this.forget(assignmentId);
      return;
    }
    const state = row.state as AssignmentState;
    // Its prompt is the message: a run that started has read it (a short one may be seen only at its end).
    if (row.started_at !== null && !this.started.has(assignmentId)) await this.readByRun(work);
    if (isTerminal(state)) {
      // Whoever moves it to `finishing` posts the reply; a restart finishes what it left there.
      if (await this.deps.store.work.set(keyOf(work), { state: 'finishing' }, 'dispatched'))
        await this.finish(work, row);
      this.forget(assignmentId);
      return;
    }
    if ((state === 'starting' || state === 'running') && !this.started.has(assignmentId)) {
      this.started.add(assignmentId);
      if (work.task_id)
        await this.deps.tasks.fromAssignment(work.task_id, { status: 'in_progress', assignmentId });
    }
  }

  /**
   * A managed agent reads its mail by running: the mention a run answers leaves the agent's unread
   * mail once the run starts (as a read does, with its `message.read` entry), so it is not counted
   * unread for ever nor found again by a run looking at the agent's inbox. One that never runs (no
   * gateway serves the agent) stays unread.
   */
  private async readByRun(work: WorkTable): Promise<void> {
    if (!work.message_id) return;
    const messageIds = await this.deps.store.mailbox.markRead(work.agent_id, [work.message_id]);
    if (messageIds.length === 0) return;
    const agent = await this.deps.store.agents.get(work.agent_id);
    const reader: Party = { kind: 'agent', id: work.agent_id, name: agent?.name ?? work.agent_id };
    await this.deps.activity.append(messageRead, {
      workspaceId: work.workspace_id,
      actor: reader,
      data: { reader, messageIds },
    });
  }

  private forget(assignmentId: string): void {
    this.open.delete(assignmentId);
    this.started.delete(assignmentId);
  }
}

/** running -> in_progress, succeeded -> done, cancelled -> cancelled, anything else -> blocked. */
function taskOutcome(row: AssignmentRow): AssignmentOutcome {
  if (row.state === 'succeeded') return { status: 'done', assignmentId: row.id };
  if (row.state === 'cancelled') return { status: 'cancelled', assignmentId: row.id };
  return { status: 'blocked', assignmentId: row.id, error: errorLine(row) };
}
