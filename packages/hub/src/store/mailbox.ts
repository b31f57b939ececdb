/**
 * Mailbox rows: one per message and recipient, with a delivery cursor (`delivered_at`: handed out
 * by an inbox call) and read state. Reads join them with the messages a recipient can see.
 */
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { MessageTable } from './schema.ts';

/** A message with the recipient's mailbox row, if it has one. */
export type MailRow = MessageTable & { mail_recipient: string | null; mail_read_at: number | null };

export interface MailQuery {
  /** Only what the recipient wrote or was sent. */
  ownOnly?: boolean;
  threadId?: string;
  /** Only their unread mail. */
  unread?: boolean;
  ids?: readonly string[];
}

/** The oldest unread mail no inbox call has handed out, up to `limit` (a claim's pick). */
const oldest = (db: Db, recipientId: string, limit: number) =>
  db
    .selectFrom('mailbox')
    .select('message_id')
    .where('recipient_id', '=', recipientId)
    .where('delivered_at', 'is', null)
    .where('read_at', 'is', null)
    .orderBy('seq')
    .limit(limit);

const oldestUndelivered = prepared((db, a: { recipientId: string; limit: number }) =>
  oldest(db, a.recipientId, a.limit),
);

/** Picks and hands out in one statement (`read`: marks read too); the same conditions again on the rows picked. */
const claimOldestRows = (read: boolean) =>
  prepared((db, a: { recipientId: string; limit: number; now: number }) =>
    db
      .updateTable('mailbox')
      .set(read ? { delivered_at: a.now, read_at: a.now } : { delivered_at: a.now })
      .where('recipient_id', '=', a.recipientId)
      .where('delivered_at', 'is', null)
      .where('read_at', 'is', null)
      .where('message_id', 'in', oldest(db, a.recipientId, a.limit))
      .returning(['message_id', 'seq']),
  );
const claimOldestRead = claimOldestRows(true);
const claimOldestDelivered = claimOldestRows(false);

/** One recipient's mailbox row: the common send, through a statement built once. */
const deliverOne = prepared((db, a: { messageId: string; kind: string; id: string; seq: number }) =>
  db.insertInto('mailbox').values({
    message_id: a.messageId,
    recipient_kind: a.kind,
    recipient_id: a.id,
    seq: a.seq,
    delivered_at: null,
    read_at: null,
  }),
);

export class MailboxRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  /** Puts a message in each recipient's mailbox, at the message's `seq`. */
  async deliver(messageId: string, seq: number, recipients: readonly { kind: string; id: string }[]) {
    if (recipients.length === 0) return;
    const [only] = recipients;
    if (recipients.length === 1 && only) {
      await deliverOne.all(this.db, this.kind, { messageId, kind: only.kind, id: only.id, seq });
      return;
    }
    await this.db
      .insertInto('mailbox')
      .values(
        recipients.map((r) => ({
          message_id: messageId,
          recipient_kind: r.kind,
          recipient_id: r.id,
          seq,
          delivered_at: null,
          read_at: null,
        })),
      )
      .execute();
  }

  /** Messages of the workspace as the recipient sees them, by seq (`newest`: the last `limit`). */
  list(
    workspaceId: string,
    recipientId: string,
    query: MailQuery,
    page: { limit?: number; newest?: boolean } = {},
  ): Promise<MailRow[]> {
    let q = this.db
      .selectFrom('messages as m')
      .leftJoin('mailbox as b', (join) =>
        join.onRef('b.message_id', '=', 'm.id').on('b.recipient_id', '=', recipientId),
      )
      .selectAll('m')
      .select(['b.recipient_id as mail_recipient', 'b.read_at as mail_read_at'])
      .where('m.workspace_id', '=', workspaceId);
    if (query.ownOnly)
      q = q.where((eb) => eb.or([eb('m.author_id', '=', recipientId), eb('b.recipient_id', 'is not', null)]));
    if (query.threadId !== undefined) q = q.where('m.thread_id', '=', query.threadId);
    if (query.unread) q = q.where('b.recipient_id', 'is not', null).where('b.read_at', 'is', null);
    if (query.ids !== undefined) {
      if (query.ids.length === 0) return Promise.resolve([]);
      q = q.where('m.id', 'in', [...query.ids]);
    }
    q = q.orderBy('m.seq', page.newest ? 'desc' : 'asc');
    if (page.limit !== undefined) q = q.limit(page.limit);
    return q.execute() as Promise<MailRow[]>;
  }

  /** Marks handed out those of `ids` not handed out yet. */
  async markDelivered(recipientId: string, ids: readonly string[], now = Date.now()): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('mailbox')
      .set({ delivered_at: now })
      .where('recipient_id', '=', recipientId)
      .where('delivered_at', 'is', null)
      .where('message_id', 'in', [...ids])
      .execute();
  }

  /** How much unread mail each of `recipientIds` has (those with none are absent). */
  async unreadCounts(recipientIds: readonly string[]): Promise<Map<string, number>> {
    if (recipientIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('mailbox')
      .select(['recipient_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('recipient_id', 'in', recipientIds)
      .where('read_at', 'is', null)
      .groupBy('recipient_id')
      .execute();
    return new Map(rows.map((r) => [r.recipient_id, Number(r.n)]));
  }

  /** The oldest `limit` unread rows never handed out (message ids, oldest first). */
  async undelivered(recipientId: string, limit: number): Promise<string[]> {
    const rows = await oldestUndelivered.all(this.db, this.kind, { recipientId, limit });
    return rows.map((r) => r.message_id);
  }

  /**
   * Hands out the oldest `limit` unread rows not handed out yet (`read`: marks them read too) in one
   * statement, and returns their message ids, oldest first. Two claims never get the same message;
   * on PostgreSQL a concurrent claim may take every row this one picked.
   */
  async claimOldest(
    recipientId: string,
    limit: number,
    { read = false, now = Date.now() }: { read?: boolean; now?: number } = {},
  ): Promise<string[]> {
    const statement = read ? claimOldestRead : claimOldestDelivered;
    const rows = await statement.all(this.db, this.kind, { recipientId, limit, now });
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map((r) => r.message_id);
  }

  /** Marks the recipient's unread rows among `ids` read (all of them without `ids`); returns those marked. */
  async markRead(recipientId: string, ids?: readonly string[], now = Date.now()): Promise<string[]> {
    if (ids?.length === 0) return [];
    let q = this.db
      .updateTable('mailbox')
      .set({ read_at: now })
      .where('recipient_id', '=', recipientId)
      .where('read_at', 'is', null);
    if (ids) q = q.where('message_id', 'in', [...ids]);
    return (await q.returning('message_id').execute()).map((r) => r.message_id);
  }
}
