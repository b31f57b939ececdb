/**
 * `0017_dispatch_indexes`: indexes for what the dispatcher and every gateway frame ask (issue 15).
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    // Lease renewals (every gateway, every few seconds) and a gateway's held attempts: by gateway
    // and state, not a scan of every held attempt of every gateway.
    await db.schema
      .createIndex('assignments_gateway_state')
      .on('assignments')
      .columns(['gateway_id', 'state'])
      .execute();
    // The queue passes over paused agents' work: the few paused agents, without a scan of all agents.
    await db.schema.createIndex('agents_paused').on('agents').columns(['paused']).execute();
  },
};
