/**
 * Versioned migrations, run at start, one file each. Each is written with Kysely's schema builder
 * so the same migration runs on SQLite and PostgreSQL. Never edit one that has shipped: add the next.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { migration as foundation } from './0001-foundation.ts';
import { migration as audit } from './0002-audit.ts';
import { migration as providers } from './0003-providers.ts';
import { migration as collaboration } from './0004-collaboration.ts';
import { migration as work } from './0005-work.ts';
import { migration as mailboxIndexes } from './0006-mailbox-indexes.ts';
import { migration as memberships } from './0007-memberships.ts';
import { migration as devices } from './0008-devices.ts';
import { migration as agentTemplates } from './0009-agent-templates.ts';
import { migration as folders } from './0010-folders.ts';
import { migration as offerFencing } from './0011-offer-fencing.ts';
import { migration as webSessions } from './0012-web-sessions.ts';
import { migration as activityInternal } from './0013-activity-internal.ts';
import { migration as chains } from './0014-chains.ts';
import { migration as chainsCause } from './0014-chains-cause.ts';
import { migration as dispatchIndexes } from './0017-dispatch-indexes.ts';
import { migration as chainStops } from './0019-chain-stops.ts';
import { migration as idempotencyKeys } from './0020-idempotency-keys.ts';
import { migration as gatewayRelay } from './0024-gateway-relay.ts';
import { migration as hubInstances } from './0025-hub-instances.ts';

const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_audit': audit,
  '0003_providers': providers,
  '0004_collaboration': collaboration,
  '0005_work': work,
  '0006_mailbox_indexes': mailboxIndexes,
  '0007_memberships': memberships,
  '0008_devices': devices,
  '0009_agent_templates': agentTemplates,
  '0010_folders': folders,
  '0011_offer_fencing': offerFencing,
  '0012_web_sessions': webSessions,
  '0013_activity_internal': activityInternal,
  '0014_chains': chains,
  '0014_chains_cause': chainsCause,
  '0017_dispatch_indexes': dispatchIndexes,
  '0019_chain_stops': chainStops,
  '0020_idempotency_keys': idempotencyKeys,
  '0024_gateway_relay': gatewayRelay,
  '0025_hub_instances': hubInstances,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
