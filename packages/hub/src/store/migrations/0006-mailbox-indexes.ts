/**
 * `0006_mailbox_indexes`: indexes for a recipient's undelivered and unread mail.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // A mailbox keeps every message it ever got; an inbox call looks only at the few not yet
    // handed out (or not yet read), so those get indexes of their own and stay fast as it grows.
    await db.schema
      .createIndex('mailbox_undelivered')
      .on('mailbox')
      .columns(['recipient_id', 'seq'])
      .where(sql.ref('delivered_at'), 'is', null)
      .execute();
    await db.schema
      .createIndex('mailbox_unread')
      .on('mailbox')
      .columns(['recipient_id', 'seq'])
      .where(sql.ref('read_at'), 'is', null)
      .execute();
  },
};
