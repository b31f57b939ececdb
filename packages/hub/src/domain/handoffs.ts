/**
 * Handoffs: owned work for an agent, and a wait for its answer. A handoff is a task (assigned to
 * the agent, in progress, never dispatched on its own) and a message that asks the agent, carrying
 * the task's id — for a managed agent that message is the task's one run. The handoff's id is that
 * message's id; everything else (rounds, the reply) is read back from its thread, so a handoff
 * survives a hub restart and any hub of a shared store can answer for it.
 *
 * The wait asks the hub first whether the agent is live (adaptive): if not, the task and message
 * stay queued and the answer is `queued_not_listening` at once. Asked inside a run, when the agent
 * could only run where that run (or one waiting on it) holds the folder or slot, the answer is
 * `would_deadlock` at once, with the reason (`Deadlocks`), never a silent timeout. A loop re-prompts in the thread
 * after each reply until one holds `<promise>TEXT</promise>` or the round limit; it advances while
 * its asker waits on it.
 */
import {
  GantryError,
  type CreateHandoff,
  type Handoff,
  type HandoffStatus,
  type Message,
  type Task,
} from '@gantry/protocol';
import * as z from 'zod';
import type { Actor } from './actor.ts';
import type { Deadlocks } from './deadlocks.ts';
import type { MessageTable } from '../store/schema.ts';
import type { AgentRow, Store } from '../store/store.ts';
import { findAgentOrThrow } from './agents.ts';
import type { ChainLimits } from './chain-limits.ts';
import type { Mailbox } from './mailbox.ts';
import { messageView, partyOf, type Messages } from './messages.ts';
import type { Reachability } from './reachability.ts';
import type { Tasks } from './tasks.ts';

export const intentPriority: Record<Task['intent'], Task['priority']> = {
  general: 'medium',
  review: 'medium',
  implement: 'high',
  qa: 'medium',
  status: 'medium',
  incident: 'urgent',
};

/** What a handoff's messages carry in `metadata.handoff`: the first one its settings, later ones its id. */
const handoffMetaSchema = z.object({
  id: z.string().optional(),
  round: z.number().int().optional(),
  agentId: z.string().optional(),
  intent: z.enum(['general', 'review', 'implement', 'qa', 'status', 'incident']).optional(),
  loop: z.object({ maxRounds: z.number().int(), promise: z.string() }).nullable().optional(),
});
type HandoffMeta = z.infer<typeof handoffMetaSchema>;

/** The most messages of a thread one read considers (a loop or a long follow-up stays far below). */
const threadWindow = 2000;

export interface WaitOptions {
  /** Milliseconds to wait for the reply. */
  wait?: number;
  /** A message of the thread: only a reply later than it counts. */
  after?: string;
  signal?: AbortSignal;
}

/** A handoff as read back from its thread. */
interface State {
  root: MessageTable;
  meta: HandoffMeta & { agentId: string };
  agent: AgentRow;
  prompts: MessageTable[];
  /** What a reply must come after: the latest prompt, or `after` when that is later. */
  from: MessageTable;
  /** The first message of the agent after the latest prompt (and after `after`). */
  reply: MessageTable | undefined;
  /** The agent's latest message in the thread. */
  lastReply: MessageTable | undefined;
}

export class Handoffs {
  /** One re-prompt at a time per handoff in this process, so two waiters never post the same round. */
  private readonly turns = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly messages: Messages,
    private readonly mailbox: Mailbox,
    private readonly tasks: Tasks,
    private readonly reachability: Reachability,
    private readonly deadlocks: Deadlocks,
    private readonly limits?: ChainLimits,
  ) {}

  async create(caller: Actor, input: CreateHandoff, signal?: AbortSignal): Promise<Handoff> {
    const me = partyOf(caller);
    const agent = await findAgentOrThrow(this.store, caller, input.agent);
    if (agent.id === me.id)
      throw new GantryError('invalid_request', 'an agent cannot hand work off to itself');
    const intent = input.intent ?? 'general';
    const loop = input.loop ?? null;
    // Asked before anything is posted: the answer describes the agent as the message finds it.
    const reach = await this.reachability.one(agent);
    const stuck = await this.deadlocks.reason(caller, agent);
    // Inside a run past its chain's limits the message is posted but runs nothing (the dispatcher
    // says so, and `chains continue` lets it run): the answer is `chain_limit` at once.
    const run = caller.run;
    const admission =
      run && this.limits
        ? await this.limits.admit({ chainId: run.chainId, depth: run.depth + 1 })
        : { ok: true };
    const task = await this.tasks.create(
      caller,
      {
        title: firstLine(input.prompt),
        body: input.prompt,
        assignee: agent.name,
        priority: intentPriority[intent],
        intent,
      },
      { dispatch: false },
    );
    // In progress before the message goes out: the run it starts moves the task from here on.
    await this.tasks.update(caller, task.id, { status: 'in_progress' }, { dispatch: false });
    const meta: HandoffMeta = { agentId: agent.id, intent, loop };
    const message = await this.messages.send(caller, {
      body: framePrompt(intent, input.prompt, loop?.promise),
      to: [agent.name],
      metadata: { taskId: task.id, handoff: meta },
      ...(input.chainMaxRuns === undefined ? {} : { chainMaxRuns: input.chainMaxRuns }),
    });
    await this.tasks.link(task.id, { threadId: message.threadId });
    if (!admission.ok)
      return this.view(await this.state(caller, message.id), 'chain_limit', reach.reachability);
    if (input.adaptive !== false && reach.reachability !== 'live') {
      const state = await this.state(caller, message.id);
      return this.view(state, 'queued_not_listening', reach.reachability);
    }
    if (stuck) return this.view(await this.state(caller, message.id), 'would_deadlock', undefined, stuck);
    return this.wait(caller, message.id, { wait: input.waitMs ?? 0, signal });
  }

  /** Waits for the reply to the latest round; a loop posts its next round and waits on. */
  async wait(caller: Actor, id: string, options: WaitOptions = {}): Promise<Handoff> {
    const deadline = Date.now() + (options.wait ?? 0);
    for (;;) {
      const state = await this.state(caller, id, options.after);
      if (state.reply) {
        const outcome = state.meta.loop ? await this.advance(caller, state) : 'replied';
        if (outcome !== 'next') return this.view(state, outcome);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted) return this.view(state, 'timeout');
      const stuck = await this.deadlocks.reason(caller, state.agent);
      if (stuck) return this.view(state, 'would_deadlock', undefined, stuck);
      const done = this.deadlocks.waiting(caller, state.agent.id);
      try {
        await this.mailbox.reply(caller, state.from.id, {
          wait: left,
          from: [state.agent.id],
          signal: options.signal,
        });
      } finally {
        done();
      }
    }
  }

  /** One more message from the asker in the thread (a follow-up), answering the agent's latest one. */
  async say(caller: Actor, id: string, body: string, options: WaitOptions = {}): Promise<Handoff> {
    const state = await this.state(caller, id);
    await this.messages.send(caller, {
      body,
      to: [state.agent.name],
      parentId: (state.lastReply ?? state.root).id,
      metadata: { ...taskOf(state), handoff: { id: state.root.id, round: state.prompts.length + 1 } },
    });
    return this.wait(caller, id, { wait: options.wait, signal: options.signal });
  }

  /**
   * After a reply in a loop: done when it keeps the promise, stopped at the round limit, else the
   * next round is posted (once, under this handoff's turn) and the wait goes on.
   */
  private async advance(caller: Actor, state: State): Promise<HandoffStatus | 'next'> {
    const loop = state.meta.loop;
    const reply = state.reply;
    if (!loop || !reply) return 'replied';
    // A round's run leaves the task in progress (WorkReplies): the loop's end moves it.
    if (keepsPromise(reply.body, loop.promise)) {
      await this.settle(caller, state, 'done');
      return 'loop_complete';
    }
    if (state.prompts.length >= loop.maxRounds) {
      await this.settle(caller, state, 'blocked');
      return 'loop_max_rounds';
    }
    await this.turn(state.root.id, async () => {
      const now = await this.state(caller, state.root.id);
      // Another waiter already asked again after this reply.
      if (now.reply?.id !== reply.id) return;
      await this.messages.send(caller, {
        body: `continue; say <promise>${loop.promise}</promise> when done`,
        parentId: reply.id,
        metadata: { ...taskOf(state), handoff: { id: state.root.id, round: now.prompts.length + 1, loop } },
      });
    });
    return 'next';
  }

  /** A loop's task once it ended: `done` when the promise came, `blocked` at the round limit. */
  private async settle(caller: Actor, state: State, status: 'done' | 'blocked'): Promise<void> {
    const { taskId } = taskOf(state);
    if (!taskId) return;
    const task = await this.store.tasks.get(taskId, caller.workspaceId);
    if (task && task.status !== status && task.status !== 'cancelled')
      await this.tasks.update(caller, taskId, { status }, { dispatch: false });
  }

  private async turn(id: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.turns.get(id) ?? Promise.resolve();
    const current = previous.then(fn, fn);
    this.turns.set(id, current);
    try {
      await current;
    } finally {
      if (this.turns.get(id) === current) this.turns.delete(id);
    }
  }

  /** Reads the handoff back from its thread; only its asker may follow it. */
  private async state(caller: Actor, id: string, after?: string): Promise<State> {
    const me = partyOf(caller);
    const root = await this.messages.row(id);
    const meta = root && root.workspace_id === caller.workspaceId ? metaOf(root) : undefined;
    if (!root || !meta?.agentId || meta.id !== undefined)
      throw new GantryError('not_found', `no handoff ${id}`);
    if (root.author_id !== me.id) {
      // Who cannot read its thread does not learn it exists; a party of it learns whose it is.
      await this.messages.visible(caller, id).catch(() => {
        throw new GantryError('not_found', `no handoff ${id}`);
      });
      throw new GantryError('forbidden', `handoff ${id} is ${root.author_name}'s: only its asker follows it`);
    }
    const agent = await this.store.agents.get(meta.agentId);
    if (!agent) throw new GantryError('not_found', `the agent of handoff ${id} no longer exists`);
    const rows = await this.store.messages.threadFrom(
      caller.workspaceId,
      root.thread_id,
      root.seq,
      threadWindow,
    );
    const prompts = rows.filter((r) => r.id === root.id || metaOf(r)?.id === root.id);
    let from = prompts.at(-1) ?? root;
    if (after) {
      const mark = rows.find((r) => r.id === after);
      if (!mark)
        throw new GantryError('invalid_request', `message ${after} is not in handoff ${id}'s thread`);
      if (mark.seq > from.seq) from = mark;
    }
    const theirs = rows.filter((r) => r.author_id === agent.id);
    return {
      root,
      meta: { ...meta, agentId: meta.agentId },
      agent,
      prompts,
      from,
      reply: theirs.find((r) => r.seq > from.seq),
      lastReply: theirs.at(-1),
    };
  }

  private async view(
    state: State,
    status: HandoffStatus,
    reachability?: Handoff['reachability'],
    reason?: string,
  ): Promise<Handoff> {
    const reply = state.reply ?? (status === 'timeout' ? undefined : state.lastReply);
    const rootView: Message = messageView(state.root);
    return {
      id: state.root.id,
      status,
      agent: { kind: 'agent', id: state.agent.id, name: state.agent.name },
      taskId: typeof rootView.metadata.taskId === 'string' ? rootView.metadata.taskId : null,
      threadId: state.root.thread_id,
      reply: reply ? messageView(reply) : null,
      rounds: state.prompts.length,
      promptId: (state.prompts.at(-1) ?? state.root).id,
      intent: state.meta.intent ?? 'general',
      loop: state.meta.loop ?? null,
      reachability: reachability ?? (await this.reachability.one(state.agent)).reachability,
      ...(reason ? { reason } : {}),
    };
  }
}

/** The prompt as the agent reads it: the intent as a tag (none for general work), the promise to keep. */
export function framePrompt(intent: Task['intent'], prompt: string, promise?: string): string {
  const tagged = intent === 'general' ? prompt : `[${intent}] ${prompt}`;
  return promise ? `${tagged}\n\nWhen it is done, say <promise>${promise}</promise>.` : tagged;
}

export function keepsPromise(body: string, promise: string): boolean {
  return body.includes(`<promise>${promise}</promise>`);
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  return (line || 'handoff').slice(0, 500);
}

/** The handoff's task, carried by every one of its messages so each round runs on it. */
function taskOf(state: State): { taskId?: string } {
  const taskId = (JSON.parse(state.root.metadata) as { taskId?: unknown }).taskId;
  return typeof taskId === 'string' ? { taskId } : {};
}

function metaOf(row: MessageTable): HandoffMeta | undefined {
  const metadata = JSON.parse(row.metadata) as { handoff?: unknown };
  const parsed = handoffMetaSchema.safeParse(metadata.handoff);
  return parsed.success ? parsed.data : undefined;
}
