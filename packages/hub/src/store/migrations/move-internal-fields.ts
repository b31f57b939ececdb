import type { Kysely } from 'kysely';

/**
 * Moves `hops` (message.created) and `dispatch` (task.*) out of entries' `data` into `internal`.
 * Done here rather than in SQL: PostgreSQL's json functions refuse the `\u0000` escapes a message
 * may hold, and rewriting in place keeps every other key, and its order, as written.
 */
export async function moveInternalFields(db: Kysely<unknown>): Promise<void> {
  const q = db as Kysely<{ activity: { id: number; type: string; data: string; internal: string | null } }>;
  const moves = { 'message.created': 'hops', 'task.created': 'dispatch', 'task.updated': 'dispatch' };
  let after = -1;
  for (;;) {
    const rows = await q
      .selectFrom('activity')
      .select(['id', 'type', 'data'])
      .where('type', 'in', Object.keys(moves))
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .execute();
    for (const row of rows) {
      const key = moves[row.type as keyof typeof moves];
      const data = JSON.parse(row.data) as Record<string, unknown>;
      if (!(key in data)) continue;
      const { [key]: value, ...rest } = data;
      await q
        .updateTable('activity')
        .set({ data: JSON.stringify(rest), internal: JSON.stringify({ [key]: value }) })
        .where('id', '=', row.id)
        .execute();
    }
    const last = rows.at(-1);
    if (!last) return;
    after = Number(last.id);
  }
}
