/** The hub's own settings and cursors, key by key (`meta`). */
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';

const upsert = prepared((db, a: { key: string; value: string }) =>
  db
    .insertInto('meta')
    .values({ key: a.key, value: a.value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: a.value })),
);

export class MetaRepository {
  constructor(
    private readonly db: Db,
    private readonly kind: StoreKind,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await upsert.all(this.db, this.kind, { key, value });
  }

  /** Sets the key only if it has no value yet; returns the value it has now. */
  async setOnce(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.get(key)) ?? value;
  }
}
