/**
 * Frames waiting for the hub that holds a gateway's socket (issue 15): written by the hub a request
 * came to, taken (deleted and returned in one statement, so exactly one hub sends it) by the hub of
 * the gateway, or withdrawn by the writer when nobody took it in time. Rows expire: a read never
 * returns an expired row, and each write drops those past their time.
 */
import type { Db } from './db.ts';

export interface GatewayRelayTable {
  id: string;
  gateway_id: string;
  /** Sealed: the store never holds the frame in the clear. */
  frame: string;
  created_at: number;
  expires_at: number;
}

export type GatewayRelayRow = GatewayRelayTable;

export class GatewayRelayRepository {
  constructor(private readonly db: Db) {}

  /** Leaves a frame; rows expired at `row.created_at` are dropped first. */
  async put(row: GatewayRelayRow): Promise<void> {
    await this.db.deleteFrom('gateway_relay').where('expires_at', '<=', row.created_at).execute();
    await this.db.insertInto('gateway_relay').values(row).execute();
  }

  /** Takes the row if it is there and unexpired at `now`: the one caller that gets it sends it. */
  take(id: string, now: number): Promise<GatewayRelayRow | undefined> {
    return this.db
      .deleteFrom('gateway_relay')
      .where('id', '=', id)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
  }

  /** Rows not yet taken nor expired at `now`, oldest first, without their frames (a catch-up read). */
  waiting(now: number): Promise<{ id: string; gateway_id: string }[]> {
    return this.db
      .selectFrom('gateway_relay')
      .select(['id', 'gateway_id'])
      .where('expires_at', '>', now)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }
}
