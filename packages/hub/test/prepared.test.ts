/**
 * Prepared queries (store/prepared.ts): compiled once, run with each call's values, in a transaction
 * too; a builder that uses an argument other than as a value is refused, not run with stale SQL.
 * Real SQLite store.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prepared } from '../src/store/prepared.ts';
import { openStore } from '../src/store/open.ts';
import { databaseOf, type Store } from '../src/store/store.ts';

let store: Store;
beforeAll(async () => (store = await openStore(':memory:')));
afterAll(() => store.close());

const meta = prepared((db, a: { key: string }) =>
  db.selectFrom('meta').select(['key', 'value']).where('key', '=', a.key),
);

it('runs one compiled query with each call its own values, also inside a transaction', async () => {
  await store.meta.set('prepared-a', 'one');
  await store.meta.set('prepared-b', 'two');
  const db = databaseOf(store);
  expect(await meta.first(db, 'sqlite', { key: 'prepared-a' })).toEqual({ key: 'prepared-a', value: 'one' });
  expect(await meta.all(db, 'sqlite', { key: 'prepared-b' })).toEqual([{ key: 'prepared-b', value: 'two' }]);
  expect(await meta.first(db, 'sqlite', { key: 'none' })).toBeUndefined();
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('meta')
      .set({ value: 'in the transaction' })
      .where('key', '=', 'prepared-b')
      .execute();
    expect(await meta.first(trx, 'sqlite', { key: 'prepared-b' })).toMatchObject({
      value: 'in the transaction',
    });
  });
});

it('refuses a builder that uses an argument other than as a value', async () => {
  const branching = prepared((db, a: { key: string; all: boolean }) =>
    a.all ? db.selectFrom('meta').selectAll() : db.selectFrom('meta').selectAll().where('key', '=', a.key),
  );
  await expect(branching.all(databaseOf(store), 'sqlite', { key: 'x', all: false })).rejects.toThrow(
    /uses all other than as values/,
  );
});
