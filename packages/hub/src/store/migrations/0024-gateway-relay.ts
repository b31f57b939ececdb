/**
 * `0024_gateway_relay`: frames one hub of a system leaves for the hub holding a gateway's socket
 * (issue 15): `attach` and `rekey` carry an agent key, which never travels in a NOTIFY payload. A
 * row lives until that hub takes it (and sends the frame) or it expires, a few seconds at most.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('gateway_relay')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('gateway_id', 'text', (c) => c.notNull())
      // The frame, sealed with the system's relay key (domain/gateway-relay.ts): no key in the clear.
      .addColumn('frame', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    // Expired rows are dropped by age, without a scan of the rows still waiting.
    await db.schema.createIndex('gateway_relay_expiry').on('gateway_relay').columns(['expires_at']).execute();
  },
};
