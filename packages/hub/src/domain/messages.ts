/**
 * Workspace messages and mailboxes. Sending resolves `@name` mentions (and `to`) into parties —
 * an unknown name is an error, never ignored — threads the message under its parent, puts it in
 * every addressed party's mailbox, and emits `message.created`, all in one transaction, in which it
 * also claims the mail of an inbox wait parked here for a recipient (inbox-waits.ts). Each message
 * sits in a chain (DESIGN §6a), and its entry says whom it may run: a person's message everyone it
 * addresses (a reply, its parent's author too); an agent's only those it names itself.
 */
import { GantryError, messageCreated, type Message, type Party, type SendMessage } from '@gantry/protocol';
import type { Actor } from './actor.ts';
import type { Bus } from '../bus.ts';
import { newId } from '../ids.ts';
import type { ActivityRow } from '../store/activity.ts';
import type { MessageTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Activity } from './activity.ts';
import type { InboxWaits } from './inbox-waits.ts';
import { chainOf, recordRoot, rootPerson, type ChainRef } from './chains.ts';
import { iso } from './views.ts';

/** `@name` where the `@` starts a word (not an e-mail address); names as the hub allows them. */
const mentionPattern = /(?<![\w@.])@([a-z0-9][a-z0-9._-]{0,62})/gi;

export interface SendOptions {
  /** Where it sits, when the hub writes it for a chain (a limit's note); else the caller's chain. */
  chain?: ChainRef;
  /** Leave unknown names as text instead of refusing (an agent's output posted as its reply). */
  ignoreUnknownMentions?: boolean;
  /** Address only `to` (and a parent's author): `@names` in the body stay text (a hub notice quoting a command). */
  addressedOnly?: boolean;
}

/** How many just-sent messages stay in memory for the inbox waits they wake (rows never change). */
const recentCap = 1024;

export class Messages {
  /** Messages this process sent lately, by id: a woken inbox answers from here instead of re-reading. */
  private readonly recentRows = new Map<string, MessageTable>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly activity: Activity,
    private readonly waits?: InboxWaits,
  ) {}

  async send(caller: Actor, input: SendMessage, options: SendOptions = {}): Promise<Message> {
    const author = partyOf(caller);
    if (input.chainMaxRuns !== undefined && (caller.kind !== 'user' || caller.run))
      throw new GantryError('forbidden', "only a person can raise a chain's limit (--chain-max-runs)");
    // A reply joins its thread, so it may answer only a message its author can read.
    const parentRow = input.parentId ? await this.visible(caller, input.parentId) : undefined;
    const parent = parentRow && messageView(parentRow);
    const mentions = await this.resolve(
      caller.workspaceId,
      [...(options.addressedOnly ? [] : mentionNames(input.body)), ...(input.to ?? [])],
      { ignoreUnknown: options.ignoreUnknownMentions === true },
    );
    // A reply in a thread is addressed to the author of the message it answers.
    const recipients = dedupe([
      ...mentions,
      ...(parent && parent.author.id !== author.id ? [parent.author] : []),
    ]).filter((p) => p.id !== author.id);
    // A person's message may run everyone it addresses; an agent's (a run's, or its result posted
    // by the hub) only whom it names itself, never its parent's author by being a reply.
    const wakes = (author.kind === 'user' ? recipients : mentions.filter((p) => p.id !== author.id)).map(
      (p) => p.id,
    );
    const now = Date.now();
    const id = newId('msg', now);
    const chain = options.chain ?? chainOf(caller, id);
    if (input.chainMaxRuns !== undefined)
      await recordRoot(this.store, {
        id,
        workspaceId: caller.workspaceId,
        kind: 'message',
        person: rootPerson(caller),
        maxRuns: input.chainMaxRuns,
      });
    const row: MessageTable = {
      id,
      workspace_id: caller.workspaceId,
      author_kind: author.kind,
      author_id: author.id,
      author_name: author.name,
      body: input.body,
      mentions: JSON.stringify(recipients),
      parent_id: parent?.id ?? null,
      thread_id: parent?.threadId ?? id,
      metadata: JSON.stringify(input.metadata ?? {}),
      hops: chain.depth,
      created_at: now,
      seq: 0,
      chain_id: chain.chainId,
      depth: chain.depth,
    };
    const message = messageView(row);
    const taken = this.waits?.take(recipients.map((p) => p.id)) ?? [];
    let reads: ActivityRow[] = [];
    const event = await this.store
      .transaction(async (tx) => {
        const entry = await this.activity.record(
          tx,
          messageCreated,
          {
            workspaceId: caller.workspaceId,
            actor: author,
            subject: id,
            data: { message },
            internal: {
              chainId: chain.chainId,
              depth: chain.depth,
              wakes,
              ...(chain.cause ? { cause: chain.cause } : {}),
            },
          },
          now,
        );
        row.seq = entry.id;
        await tx.messages.insert(row);
        await tx.mailbox.deliver(id, entry.id, recipients);
        if (this.waits && taken.length > 0) reads = await this.waits.claim(tx, taken, now);
        return entry;
      })
      .catch((err: unknown) => {
        this.waits?.settle(taken, false);
        throw err;
      });
    this.remember(row);
    this.waits?.settle(taken, true);
    // Waiting inboxes first; the entries' readers (streams, work triggers) follow once this turn's
    // work is done, so their reads do not hold up the woken inboxes and this response.
    for (const r of recipients) this.bus.emit('mailbox', { recipientId: r.id });
    setImmediate(() => this.activity.published(event, ...reads));
    return message;
  }

  /** A message this process sent lately, as stored; undefined if it is not in memory (read the store). */
  recent(id: string): MessageTable | undefined {
    return this.recentRows.get(id);
  }

  private remember(row: MessageTable): void {
    this.recentRows.set(row.id, row);
    if (this.recentRows.size > recentCap)
      this.recentRows.delete(this.recentRows.keys().next().value as string);
  }

  async get(workspaceId: string, id: string): Promise<Message | undefined> {
    const row = await this.store.messages.inWorkspace(workspaceId, id);
    return row && messageView(row);
  }

  /** The row itself (with `hops`), for the hub's own decisions. */
  row(id: string): Promise<MessageTable | undefined> {
    return this.store.messages.get(id);
  }

  /**
   * The message if the caller may read it: they wrote or were sent a message of its thread (so also
   * this one). Otherwise not_found, as for no message at all: its existence is not theirs to know.
   */
  async visible(caller: Actor, id: string): Promise<MessageTable> {
    const me = partyOf(caller);
    const row = await this.row(id);
    if (!row || row.workspace_id !== caller.workspaceId || !(await this.inThread(caller, me, row.thread_id)))
      throw new GantryError('not_found', `no message ${id}`);
    return row;
  }

  /** The thread of `ref` (a thread id or any message's id) if the caller may read it; else not_found. */
  async visibleThread(caller: Actor, ref: string): Promise<string> {
    const me = partyOf(caller);
    const message = await this.row(ref);
    const threadId = message && message.workspace_id === caller.workspaceId ? message.thread_id : ref;
    if (!(await this.inThread(caller, me, threadId)))
      throw new GantryError('not_found', `no thread ${ref} with a message to or from you`);
    return threadId;
  }

  /**
   * A session key the hub names after a thread or a sender (`thread:ID`, `dm:ID`) holds that
   * conversation: a caller may name it only for a thread they can read, or for themselves.
   */
  async checkSessionKey(caller: Actor, key: string): Promise<void> {
    const [kind, id = ''] = splitOnce(key, ':');
    if (kind === 'thread') {
      if (!(await this.inThread(caller, partyOf(caller), id)))
        throw new GantryError('not_found', `no thread ${id} with a message to or from you`);
    } else if (kind === 'dm' && id !== partyOf(caller).id) {
      throw new GantryError('not_found', `no conversation ${key} of yours: a dm: session is its sender's`);
    }
  }

  /** Whether `me` wrote or was sent a message of the thread. */
  private inThread(caller: Actor, me: Party, threadId: string): Promise<boolean> {
    return this.store.messages.inThread(caller.workspaceId, me.id, threadId);
  }

  /** A thread's messages, oldest first. */
  async thread(workspaceId: string, threadId: string, limit = 200): Promise<Message[]> {
    const rows = await this.store.messages.latestInThread(workspaceId, threadId, limit);
    return rows.reverse().map((row) => messageView(row));
  }

  /** Agents (by name or id) and users (by handle or id) of the workspace; unknown names are an error. */
  async resolve(
    workspaceId: string,
    refs: readonly string[],
    options: { ignoreUnknown?: boolean } = {},
  ): Promise<Party[]> {
    const parties: Party[] = [];
    const unknown: string[] = [];
    for (const ref of new Set(refs.map((r) => r.replace(/^@/, '')))) {
      const party = await this.party(workspaceId, ref);
      if (party) parties.push(party);
      else unknown.push(`@${ref}`);
    }
    if (unknown.length > 0 && !options.ignoreUnknown) {
      throw new GantryError(
        'invalid_request',
        `no agent or user named ${unknown.join(', ')} in this workspace (see \`gantry agents list\`)`,
      );
    }
    return dedupe(parties);
  }

  private async party(workspaceId: string, ref: string): Promise<Party | undefined> {
    // Names may end in . _ -, but a mention followed by punctuation ("@bob.") means the name before it.
    for (const name of new Set([ref, ref.replace(/[._-]+$/, '')])) {
      const agent = await this.store.agents.find(workspaceId, name.toLowerCase());
      if (agent) return { kind: 'agent', id: agent.id, name: agent.name };
      const user = await this.store.users.find(workspaceId, name, name.toLowerCase());
      if (user) return { kind: 'user', id: user.id, name: user.handle };
    }
    return undefined;
  }
}

export function partyOf(caller: Actor): Party {
  if (caller.kind === 'gateway')
    throw new GantryError(
      'forbidden',
      'a gateway token cannot take part in messages: use a user token or an agent key',
    );
  return { kind: caller.kind, id: caller.id, name: caller.name };
}

export function mentionNames(body: string): string[] {
  return [...body.matchAll(mentionPattern)].map((m) => m[1] ?? '').filter(Boolean);
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + separator.length)];
}

function dedupe(parties: Party[]): Party[] {
  const seen = new Set<string>();
  return parties.filter((p) => !seen.has(p.id) && seen.add(p.id));
}

export function messageView(row: MessageTable, read?: boolean): Message {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    author: { kind: row.author_kind as Party['kind'], id: row.author_id, name: row.author_name },
    body: row.body,
    mentions: JSON.parse(row.mentions) as Party[],
    parentId: row.parent_id,
    threadId: row.thread_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    createdAt: iso(row.created_at) as string,
    chainId: row.chain_id,
    depth: row.depth,
    ...(read === undefined ? {} : { read }),
  };
}
