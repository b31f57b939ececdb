/**
 * A caller's mailbox: the `mailbox` rows addressed to them, joined with the messages.
 *
 * `inbox` without a wait answers with all unread mail. With a wait it answers with the unread mail
 * no inbox call has handed out yet (the per-recipient delivery cursor, `delivered_at`), or waits for
 * the bus to say mail came. It subscribes before it reads, so nothing sent in between is missed, and
 * it claims rows with a conditional update, so two waits of one caller never get the same message
 * and mail already handed out never wakes a wait again. A send on this hub claims for a parked wait
 * in its own transaction (inbox-waits.ts), and the wait answers with that.
 *
 * What a caller may see: messages addressed to them or written by them, and every message of a
 * thread in which they can see one (a reply is read in its conversation).
 */
import {
  GantryError,
  messageRead,
  type Inbox,
  type Message,
  type MessageReply,
  type Party,
} from '@gantry/protocol';
import type { Activity } from './activity.ts';
import type { Actor } from './actor.ts';
import type { Bus } from '../bus.ts';
import type { MailRow } from '../store/mailbox.ts';
import type { MessageTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { claimIn, InboxWait, readEntry, type InboxWaits } from './inbox-waits.ts';
import { messageView, partyOf, type Messages } from './messages.ts';
import type { Presence } from './presence.ts';

export const defaultInboxLimit = 100;
export const defaultListLimit = 50;

export interface InboxOptions {
  /** Milliseconds to wait for mail not handed out yet; without, all unread mail at once. */
  wait?: number;
  markRead?: boolean;
  limit?: number;
  /** Ends a wait early (the client went away): it then claims nothing. */
  signal?: AbortSignal;
}

export interface ListOptions {
  unread?: boolean;
  markRead?: boolean;
  /** A thread id, or the id of any message in it. */
  thread?: string;
  limit?: number;
}

export interface ReplyOptions {
  wait?: number;
  /** Who may answer (names or ids); default: the agents the message addresses, else everyone it does. */
  from?: readonly string[];
  signal?: AbortSignal;
}

type Row = MailRow;

export class Mailbox {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly messages: Messages,
    private readonly presence: Presence,
    private readonly activity: Activity,
    private readonly waits: InboxWaits,
  ) {}

  async inbox(caller: Actor, options: InboxOptions = {}): Promise<Inbox> {
    const me = partyOf(caller);
    const limit = options.limit ?? defaultInboxLimit;
    if (options.wait === undefined) {
      this.presence.inboxCalled(me.id);
      return { messages: await this.unread(caller, me, limit, options.markRead === true), timedOut: false };
    }
    const markRead = options.markRead === true;
    const wait = new InboxWait(caller, me, limit, markRead, options.signal);
    const leave = this.presence.enterWait(me.id);
    const remove = this.waits.add(wait);
    try {
      let claimed = await this.bus.watch(
        'mailbox',
        ({ recipientId }) => recipientId === me.id,
        async () => {
          // What a send claimed for this wait while it was parked comes first: it is this wait's now.
          while (wait.handoff) {
            const ids = await wait.handed();
            if (ids) return this.answer(caller, me, ids, markRead);
          }
          const mail = await this.claim(caller, me, limit, markRead);
          if (mail.length > 0) return mail;
          wait.parked = true;
          return undefined;
        },
        { deadline: Date.now() + options.wait, signal: options.signal },
      );
      remove();
      // Out of time (or the client left) just as a send took this wait: what it claimed is answered.
      if (!claimed && wait.handoff) {
        const ids = await wait.handed();
        if (ids) claimed = await this.answer(caller, me, ids, markRead);
      }
      return claimed ? { messages: claimed, timedOut: false } : { messages: [], timedOut: true };
    } finally {
      remove();
      leave();
    }
  }

  /** Messages the caller can see, the newest `limit` of them, oldest first. */
  async list(caller: Actor, options: ListOptions = {}): Promise<Message[]> {
    const me = partyOf(caller);
    const threadId = options.thread ? await this.messages.visibleThread(caller, options.thread) : undefined;
    const rows = await this.store.mailbox.list(
      caller.workspaceId,
      me.id,
      { ownOnly: threadId === undefined, threadId, unread: options.unread === true },
      { limit: options.limit ?? defaultListLimit, newest: true },
    );
    rows.reverse();
    const marked = options.markRead ? await this.markRead(caller, me, unreadIds(rows)) : new Set<string>();
    return rows.map((row) => view(row, marked));
  }

  /** One message the caller can see (not found otherwise: its existence is not theirs to know). */
  async get(caller: Actor, id: string): Promise<Message> {
    const me = partyOf(caller);
    const [row] = await this.store.mailbox.list(caller.workspaceId, me.id, { ids: [id] });
    if (!row) throw notFound(id);
    // Not theirs directly: readable when it is in a thread of theirs.
    if (row.author_id !== me.id && row.mail_recipient === null) await this.messages.visible(caller, id);
    return view(row, new Set());
  }

  /** Marks one message read for the caller and returns it. */
  async read(caller: Actor, id: string): Promise<Message> {
    const message = await this.get(caller, id);
    const marked = await this.markRead(caller, partyOf(caller), [id]);
    return marked.has(id) ? { ...message, read: true } : message;
  }

  /** Marks all of the caller's unread mail read; returns how many. */
  async readAll(caller: Actor): Promise<number> {
    return (await this.markRead(caller, partyOf(caller))).size;
  }

  /**
   * The first message after `id` in its thread written by one of `from`; with `wait`, waits for it
   * (woken by the activity log's `message.created`, never by polling).
   */
  async reply(caller: Actor, id: string, options: ReplyOptions = {}): Promise<MessageReply> {
    const message = await this.get(caller, id);
    const row = await this.messages.row(id);
    if (!row) throw notFound(id);
    const authors = await this.repliers(caller, message, options.from);
    const reply = await this.bus.watch(
      'activity',
      ({ workspaceId, type }) => workspaceId === caller.workspaceId && type === 'message.created',
      () => this.store.messages.firstReply(caller.workspaceId, row.thread_id, row.seq, authors),
      { deadline: Date.now() + (options.wait ?? 0), signal: options.signal },
    );
    return reply ? { reply: messageView(reply), timedOut: false } : { reply: null, timedOut: true };
  }

  private async repliers(caller: Actor, message: Message, from?: readonly string[]): Promise<string[]> {
    if (from && from.length > 0)
      return (await this.messages.resolve(caller.workspaceId, from)).map((p) => p.id);
    const agents = message.mentions.filter((p) => p.kind === 'agent');
    const parties = agents.length > 0 ? agents : message.mentions;
    if (parties.length === 0) {
      throw new GantryError(
        'invalid_request',
        `message ${message.id} is addressed to nobody, so no reply can be waited for: mention an agent`,
      );
    }
    return parties.map((p) => p.id);
  }

  /** All unread mail, oldest first; what was never handed out counts as handed out now. */
  private async unread(caller: Actor, me: Party, limit: number, markRead: boolean): Promise<Message[]> {
    const rows = await this.store.mailbox.list(caller.workspaceId, me.id, { unread: true }, { limit });
    const ids = rows.map((r) => r.id);
    await this.store.mailbox.markDelivered(me.id, ids);
    const marked = markRead ? await this.markRead(caller, me, ids) : new Set<string>();
    return rows.map((row) => view(row, marked));
  }

  /** Claims the oldest unread mail no inbox call has handed out; returns only what this call claimed. */
  private async claim(caller: Actor, me: Party, limit: number, markRead: boolean): Promise<Message[]> {
    // On PostgreSQL a concurrent claim may take every row this one picked while more wait behind
    // them (past `limit`): then claim again rather than wait for mail that is already here. A look
    // first keeps a wait that finds nothing (most start so) out of a write transaction.
    for (let tries = 0; tries < 5; tries++) {
      if ((await this.store.mailbox.undelivered(me.id, 1)).length === 0) return [];
      const now = Date.now();
      const { ids, entry } = await this.store.transaction((tx) =>
        claimIn(tx, this.activity, caller, me, limit, markRead, now),
      );
      if (entry) this.activity.published(entry);
      if (ids.length > 0) return this.answer(caller, me, ids, markRead);
    }
    return [];
  }

  /** Claimed mail as messages: from memory when this process just sent them, else from the store. */
  private async answer(
    caller: Actor,
    me: Party,
    ids: readonly string[],
    markRead: boolean,
  ): Promise<Message[]> {
    if (ids.length === 0) return [];
    const rows: MessageTable[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const row = this.messages.recent(id);
      if (row) rows.push(row);
      else missing.push(id);
    }
    if (missing.length > 0)
      rows.push(...(await this.store.mailbox.list(caller.workspaceId, me.id, { ids: missing })));
    return rows
      .filter((row) => row.workspace_id === caller.workspaceId)
      .sort((a, b) => a.seq - b.seq)
      .map((row) => messageView(row, markRead));
  }

  /**
   * Marks the caller's unread rows among `ids` (all without `ids`) read; returns the ids it marked.
   * What it marked is a `message.read` entry, so unread counts and marks on open dashboards follow.
   */
  private async markRead(caller: Actor, me: Party, ids?: readonly string[]): Promise<Set<string>> {
    const marked = await this.store.mailbox.markRead(me.id, ids);
    if (marked.length > 0) await this.activity.append(messageRead, readEntry(caller, me, marked));
    return new Set(marked);
  }
}

function unreadIds(rows: Row[]): string[] {
  return rows.filter((r) => r.mail_recipient !== null && r.mail_read_at === null).map((r) => r.id);
}

/** A message as the caller sees it: read unless it is in their mailbox unread (now marked or not). */
function view(row: Row, marked: ReadonlySet<string>): Message {
  const unread = row.mail_recipient !== null && row.mail_read_at === null && !marked.has(row.id);
  return messageView(row, !unread);
}

function notFound(id: string): GantryError {
  return new GantryError('not_found', `no message ${id}`);
}
