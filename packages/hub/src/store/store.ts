/**
 * The hub's store: one query layer (Kysely) over SQLite or PostgreSQL, a repository per aggregate
 * (`repositories.ts`). Domain code calls repositories and never writes SQL, nor sees the database
 * handle; both backends pass the same contract suite.
 */
import { Migrator, type Kysely } from 'kysely';
import type { StoreKind } from './db.ts';
import { migrationProvider } from './migrations/index.ts';
import { Repositories } from './repositories.ts';
import type { FastEventInsert } from './assignment-events.ts';
import type { Database } from './schema.ts';

export type { StoreKind } from './db.ts';
export type { AgentRow } from './agents.ts';
export type { ApprovalPatch, ApprovalRow } from './approvals.ts';
export type { EventRow, NewEvent } from './assignment-events.ts';
export type { AssignmentPatch, AssignmentRow, NewAssignment } from './assignments.ts';
export type { ChainRow } from './chains.ts';
export type { GatewayRow } from './gateways.ts';
export type { TokenRow, TokenWithOwner } from './tokens.ts';
export type { UserRow, WorkspaceRow } from './users.ts';

const handles = new WeakMap<Store, Kysely<Database>>();

/**
 * The database behind a store, for the store's own tests and tools only: domain code goes through
 * the repositories (a test fails when anything outside `store/` and tests uses this).
 */
export function databaseOf(store: Store): Kysely<Database> {
  return handles.get(store) as Kysely<Database>;
}

export class Store extends Repositories {
  readonly #db: Kysely<Database>;

  constructor(kind: StoreKind, db: Kysely<Database>, fast: { insertEvents?: FastEventInsert } = {}) {
    super(kind, db, fast.insertEvents);
    this.#db = db;
    handles.set(this, db);
  }

  /** Runs `fn` in one transaction: every repository it is handed writes in it. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => fn(new Repositories(this.kind, trx)));
  }

  async migrate(): Promise<void> {
    // Numbers are handed out per piece of work, so one may land after a later number ran on a
    // database (`0014_chains_cause` after `0017_dispatch_indexes`): each runs once, in name order.
    const migrator = new Migrator({
      db: this.#db,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
    });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) {
      const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
      throw new Error(`database migration failed: ${reason}`, { cause: error });
    }
  }

  close(): Promise<void> {
    return this.#db.destroy();
  }
}
