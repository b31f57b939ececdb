/**
 * Running hub processes of the system (issue 15). Each keeps its row unexpired by renewing it; a
 * gateway's `hub_instance` names the one holding its socket, and counts as connected only while that
 * row is unexpired (gateways.ts). An instance that stops cleanly removes its row and clears its
 * gateways; one that was killed is cleared by the next hub that sweeps after its row expired.
 */
import type { Db } from './db.ts';

export interface HubInstanceTable {
  id: string;
  started_at: number;
  seen_at: number;
  /** The instance counts as alive until then (it renews well before). */
  expires_at: number;
}

export class HubInstanceRepository {
  constructor(private readonly db: Db) {}

  async register(id: string, now: number, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('hub_instances')
      .values({ id, started_at: now, seen_at: now, expires_at: expiresAt })
      .onConflict((oc) => oc.column('id').doUpdateSet({ seen_at: now, expires_at: expiresAt }))
      .execute();
  }

  /**
   * Renews the row. False when it was gone (another hub found it expired and cleared its
   * gateways): it is written again, and the caller claims back the gateways it still holds.
   */
  async renew(id: string, now: number, expiresAt: number): Promise<boolean> {
    const result = await this.db
      .updateTable('hub_instances')
      .set({ seen_at: now, expires_at: expiresAt })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return true;
    await this.register(id, now, expiresAt);
    return false;
  }

  /** A clean stop: the row goes and so does every connection it still held. */
  async remove(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('gateways')
      .set({ connected: 0, hub_instance: null, last_seen_at: now })
      .where('hub_instance', '=', id)
      .execute();
    await this.db.deleteFrom('hub_instances').where('id', '=', id).execute();
  }

  /**
   * Clears the gateways of instances expired at `now` and drops their rows (cheap: a read of this
   * small table, then an indexed update only when some instance died). With `all`, also any
   * gateway marked connected by no living instance (rows written before instances existed, or
   * whose instance row is already gone): a starting hub's sweep.
   */
  async sweep(now: number, all = false): Promise<number> {
    const dead = (
      await this.db.selectFrom('hub_instances').select('id').where('expires_at', '<=', now).execute()
    ).map((r) => r.id);
    let cleared = 0;
    if (dead.length > 0) {
      const result = await this.db
        .updateTable('gateways')
        .set({ connected: 0, hub_instance: null })
        .where('hub_instance', 'in', dead)
        .executeTakeFirst();
      cleared += Number(result.numUpdatedRows);
      await this.db.deleteFrom('hub_instances').where('id', 'in', dead).execute();
    }
    if (all) {
      const result = await this.db
        .updateTable('gateways')
        .set({ connected: 0, hub_instance: null })
        .where('connected', '=', 1)
        .where((eb) =>
          eb.or([
            eb('hub_instance', 'is', null),
            eb(
              'hub_instance',
              'not in',
              eb.selectFrom('hub_instances').select('id').where('expires_at', '>', now),
            ),
          ]),
        )
        .executeTakeFirst();
      cleared += Number(result.numUpdatedRows);
    }
    return cleared;
  }
}
