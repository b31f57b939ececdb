/** A run's events, by (assignment, attempt, seq): stored once, read in order from a cursor. */
import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { AssignmentEventTable } from './schema.ts';

export type EventRow = AssignmentEventTable;
export type NewEvent = Omit<AssignmentEventTable, 'assignment_id' | 'attempt'>;
/** Stores one attempt's events in one transaction, as they are (no row objects made for them). */
export type FastEventInsert = (assignmentId: string, attempt: number, events: NewEvent[]) => void;

export class EventRepository {
  constructor(
    private readonly db: Db,
    /** A faster path for the hottest write, where the backend has one (SQLite: a prepared statement). */
    private readonly fastInsert?: FastEventInsert,
    /** PostgreSQL takes a batch as six arrays (`unnest`): one short statement, whatever the batch size. */
    private readonly arrays = false,
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
    if (this.fastInsert) return this.fastInsert(assignmentId, attempt, events);
    const rows = events.map((e) => ({ ...e, assignment_id: assignmentId, attempt }));
    if (this.arrays) {
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
  list(assignmentId: string, after?: { attempt: number; seq: number }, limit = 10_000) {
    let query = this.db.selectFrom('assignment_events').selectAll().where('assignment_id', '=', assignmentId);
    if (after) {
      // A row-value comparison, so both databases walk the primary key from the cursor on.
      query = query.where(sql<boolean>`(attempt, seq) > (${after.attempt}, ${after.seq})`);
    }
    return query.orderBy('attempt').orderBy('seq').limit(limit).execute();
  }
}
