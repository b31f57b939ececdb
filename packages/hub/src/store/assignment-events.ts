/** A run's events, by (assignment, attempt, seq): stored once, read in order from a cursor. */
import { sql } from 'kysely';
import type { Db, StoreKind } from './db.ts';
import { prepared } from './prepared.ts';
import type { AssignmentEventTable } from './schema.ts';

export type EventRow = AssignmentEventTable;
export type NewEvent = Omit<AssignmentEventTable, 'assignment_id' | 'attempt'>;
/** Stores one attempt's events in one transaction, as they are (no row objects made for them). */
export type FastEventInsert = (assignmentId: string, attempt: number, events: NewEvent[]) => void;

/** A live stream's read after its cursor, once per batch stored: built once. */
const after = prepared((db, a: { id: string; attempt: number; seq: number; limit: number }) =>
  db
    .selectFrom('assignment_events')
    .selectAll()
    .where('assignment_id', '=', a.id)
    // A row-value comparison, so both databases walk the primary key from the cursor on.
    .where(sql<boolean>`(attempt, seq) > (${a.attempt}, ${a.seq})`)
    .orderBy('attempt')
    .orderBy('seq')
    .limit(a.limit),
);

export class EventRepository {
  constructor(
    private readonly db: Db,
    /** A faster path for the hottest write, where the backend has one (SQLite: a prepared statement). */
    private readonly fastInsert: FastEventInsert | undefined,
    /** PostgreSQL takes a batch as six arrays (`unnest`): one short statement, whatever the batch size. */
    private readonly kind: StoreKind,
  ) {}

  /**
   * Stores events by (assignment, attempt, seq); a seq already stored is left as it was, so a
   * replayed batch has no effect. Returns the highest seq up to which the attempt has no gap.
   */
  async append(assignmentId: string, attempt: number, events: NewEvent[]): Promise<number> {
    await this.insert(assignmentId, attempt, events);
    return this.contiguousSeq(assignmentId, attempt);
  }

  /** Stores events by (assignment, attempt, seq); a seq already stored is left as it was. */
  async insert(assignmentId: string, attempt: number, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const fast = this.fastInsert;
    // Under the connection's lock, as any query: run between another caller's begin and commit,
    // the batch would be part of that transaction, and lost if it rolled back.
    if (fast) return this.db.connection().execute(async () => fast(assignmentId, attempt, events));
    const rows = events.map((e) => ({ ...e, assignment_id: assignmentId, attempt }));
    if (this.kind === 'postgres') {
      await sql`insert into assignment_events (assignment_id, attempt, seq, type, ts, data)
        select * from unnest(${rows.map((r) => r.assignment_id)}::text[], ${rows.map((r) => r.attempt)}::integer[],
          ${rows.map((r) => r.seq)}::integer[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.ts)}::text[],
          ${rows.map((r) => r.data)}::text[])
        on conflict (assignment_id, attempt, seq) do nothing`.execute(this.db);
      return;
    }
    await this.db
      .insertInto('assignment_events')
      .values(rows)
      .onConflict((oc) => oc.columns(['assignment_id', 'attempt', 'seq']).doNothing())
      .execute();
  }

  /** The highest seq n such that seqs 1..n of the attempt are all stored. */
  async contiguousSeq(assignmentId: string, attempt: number): Promise<number> {
    const row = await this.db
      .selectFrom('assignment_events')
      .select([sql<number>`count(*)`.as('n'), sql<number>`max(seq)`.as('top')])
      .where('assignment_id', '=', assignmentId)
      .where('attempt', '=', attempt)
      .where('seq', '>=', 1) // with seqs from 1 only, count = max means 1..max are all there
      .executeTakeFirstOrThrow();
    const count = Number(row.n);
    if (count === 0) return 0;
    if (Number(row.top) === count) return count;
    // A gap: find the first missing seq.
    const gap = await this.db
      .selectFrom('assignment_events as e')
      .select(sql<number>`min(e.seq)`.as('seq'))
      .where('e.assignment_id', '=', assignmentId)
      .where('e.attempt', '=', attempt)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('assignment_events as n')
              .select('n.seq')
              .whereRef('n.assignment_id', '=', 'e.assignment_id')
              .whereRef('n.attempt', '=', 'e.attempt')
              .where(sql<boolean>`n.seq = e.seq + 1`),
          ),
        ),
      )
      .executeTakeFirstOrThrow();
    const firstTop = Number(gap.seq);
    const hasOne = await this.db
      .selectFrom('assignment_events')
      .select('seq')
      .where('assignment_id', '=', assignmentId)
      .where('attempt', '=', attempt)
      .where('seq', '=', 1)
      .executeTakeFirst();
    return hasOne ? firstTop : 0;
  }

  /** Events in (attempt, seq) order, after the given position when there is one. */
  list(assignmentId: string, cursor?: { attempt: number; seq: number }, limit = 10_000): Promise<EventRow[]> {
    if (cursor) {
      return after.all(this.db, this.kind, {
        id: assignmentId,
        attempt: cursor.attempt,
        seq: cursor.seq,
        limit,
      });
    }
    return this.db
      .selectFrom('assignment_events')
      .selectAll()
      .where('assignment_id', '=', assignmentId)
      .orderBy('attempt')
      .orderBy('seq')
      .limit(limit)
      .execute();
  }
}
