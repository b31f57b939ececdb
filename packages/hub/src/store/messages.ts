/** Messages of a workspace, in threads; `seq` (the id of its `message.created` entry) orders them. */
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { MessageTable } from './schema.ts';

export type MessageRow = MessageTable;

const insertRow = prepared((db, a: MessageRow) =>
  db.insertInto('messages').values({
    id: a.id,
    workspace_id: a.workspace_id,
    author_kind: a.author_kind,
    author_id: a.author_id,
    author_name: a.author_name,
    body: a.body,
    mentions: a.mentions,
    parent_id: a.parent_id,
    thread_id: a.thread_id,
    metadata: a.metadata,
    hops: a.hops,
    created_at: a.created_at,
    seq: a.seq,
    chain_id: a.chain_id,
    depth: a.depth,
  }),
);

export class MessageRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  async insert(row: MessageRow): Promise<void> {
    await insertRow.all(this.db, this.kind, row);
  }

  get(id: string): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A message of one workspace. */
  inWorkspace(workspaceId: string, id: string): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Whether the party wrote or was sent a message of the thread. */
  async inThread(workspaceId: string, partyId: string, threadId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('messages as m')
      .leftJoin('mailbox as b', (join) =>
        join.onRef('b.message_id', '=', 'm.id').on('b.recipient_id', '=', partyId),
      )
      .select('m.id')
      .where('m.workspace_id', '=', workspaceId)
      .where('m.thread_id', '=', threadId)
      .where((eb) => eb.or([eb('m.author_id', '=', partyId), eb('b.recipient_id', 'is not', null)]))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The newest `limit` messages of a thread before `beforeSeq` (all when not given), newest first. */
  latestInThread(workspaceId: string, threadId: string, limit: number, beforeSeq?: number) {
    let query = this.db
      .selectFrom('messages')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('thread_id', '=', threadId);
    if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
    return query.orderBy('seq', 'desc').limit(limit).execute();
  }

  /** Up to `limit` messages of a thread from `fromSeq` on, oldest first. */
  threadFrom(workspaceId: string, threadId: string, fromSeq: number, limit: number): Promise<MessageRow[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('thread_id', '=', threadId)
      .where('seq', '>=', fromSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  /** The first message of the thread after `seq` written by one of `authorIds`. */
  firstReply(
    workspaceId: string,
    threadId: string,
    seq: number,
    authorIds: readonly string[],
  ): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('thread_id', '=', threadId)
      .where('seq', '>', seq)
      .where('author_id', 'in', [...authorIds])
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
  }

  /** Replies of one author to one message (id and metadata). */
  repliesBy(threadId: string, parentId: string, authorId: string) {
    return this.db
      .selectFrom('messages')
      .select(['id', 'metadata'])
      .where('thread_id', '=', threadId)
      .where('parent_id', '=', parentId)
      .where('author_id', '=', authorId)
      .execute();
  }
}
