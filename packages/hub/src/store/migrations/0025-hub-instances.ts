/**
 * `0025_hub_instances`: who holds a gateway's socket (issue 15). Each running hub process keeps a
 * row it renews every few seconds (`hub_instances`); a gateway row names the instance holding its
 * socket (`gateways.hub_instance`). A gateway counts as connected while that instance's row is
 * unexpired, so a hub killed outright stops counting its gateways connected within seconds, and a
 * starting hub clears only the gateways of dead instances, not those of the other running hubs.
 */
import type { Kysely, Migration } from 'kysely';

export const migration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('hub_instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      // Written by the instance itself (seen_at + its window): readers need no settings of it.
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('gateways').addColumn('hub_instance', 'text').execute();
    await db.schema.createIndex('gateways_hub_instance').on('gateways').columns(['hub_instance']).execute();
  },
};
