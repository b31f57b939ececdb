/**
 * The workspace activity log (DESIGN §2): every change emits one entry. Ids come from a counter row
 * taken inside the writing transaction, so they follow commit order on SQLite and PostgreSQL alike
 * and a reader `since` an id never skips a late commit. Subscribers hear ids on the bus and re-read.
 */
import {
  matchesActivityType,
  type ActivityData,
  type ActivityDefinition,
  type ActivityEvent,
  type ActivityType,
  type Party,
} from '@gantry/protocol';
import type { Bus } from '../bus.ts';
import type { ActivityRow as ActivityTable } from '../store/activity.ts';
import type { Repositories } from '../store/repositories.ts';
import type { Store } from '../store/store.ts';
import { iso } from './views.ts';

/** What only the hub's own readers (the work dispatcher) use of an entry: kept beside it, never served. */
export interface ActivityInternal {
  /** `message.created` before chains (`0014_chains`): how many agent replies in a row led to it. */
  hops?: number;
  /** `task.*`: the entry asks the work dispatcher to run the task (its assignee is a managed agent). */
  dispatch?: true;
  /** `message.created` and a dispatching `task.*`: the chain it sits in (DESIGN §6a). */
  chainId?: string;
  /** The depth of the run that wrote it (0 for a person or an agent outside any run). */
  depth?: number;
  /** The run (assignment id) that wrote it. */
  cause?: string;
  /** `message.created`: whom it may run (ids); absent before chains: everyone it addresses. */
  wakes?: string[];
}

/** An entry of a definition. */
export interface NewActivity<A extends ActivityDefinition> {
  /** A family's entry (`listener.*`) names its own type (`listener.queue_full`). */
  type?: ActivityType<A['type']>;
  workspaceId: string;
  actor?: Party | null;
  subject?: string | null;
  data: ActivityData<A>;
  internal?: ActivityInternal;
}

/** The store, or one transaction on it. */
export type Tx = Repositories;

export class Activity {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
  ) {}

  /**
   * Appends an entry inside the caller's transaction and returns its id; call `published` with
   * the entry once the transaction has committed.
   */
  async record<A extends ActivityDefinition>(
    trx: Tx,
    definition: A,
    entry: NewActivity<A>,
    now = Date.now(),
  ): Promise<ActivityTable> {
    const type = entry.type ?? definition.type;
    if (type.endsWith('.*')) throw new Error(`an entry of ${type} names its own type`);
    return trx.activity.insert({
      workspace_id: entry.workspaceId,
      type,
      ts: now,
      actor_kind: entry.actor?.kind ?? null,
      actor_id: entry.actor?.id ?? null,
      actor_name: entry.actor?.name ?? null,
      subject: entry.subject ?? null,
      data: JSON.stringify(entry.data),
      internal: entry.internal ? JSON.stringify(entry.internal) : null,
    });
  }

  /** Tells subscribers about committed entries. */
  published(...rows: ActivityTable[]): void {
    for (const row of rows)
      this.bus.emit('activity', { workspaceId: row.workspace_id, id: row.id, type: row.type });
  }

  /** Appends one entry in its own transaction (one statement where the store can) and publishes it. */
  async append<A extends ActivityDefinition>(definition: A, entry: NewActivity<A>): Promise<ActivityEvent> {
    const row = this.store.activity.insertIsAtomic
      ? await this.record(this.store, definition, entry)
      : await this.store.transaction((tx) => this.record(tx, definition, entry));
    this.published(row);
    return activityView(row);
  }

  /** Entries after `afterId`, oldest first; `types` are exact types or prefixes ending in `.`. */
  async since(
    workspaceId: string,
    afterId: number,
    options: { types?: readonly string[]; limit?: number } = {},
  ): Promise<ActivityEvent[]> {
    const rows = await this.store.activity.since(workspaceId, afterId, options.limit ?? 1000);
    const types = options.types ?? [];
    return rows.filter((row) => matchesActivityType(row.type, types)).map(activityView);
  }

  /** A workspace's entries before `beforeId` (all without it), newest first. */
  async before(workspaceId: string, beforeId: number | undefined, limit: number): Promise<ActivityEvent[]> {
    return (await this.store.activity.before(workspaceId, beforeId, limit)).map(activityView);
  }

  /** The newest id of a workspace's log (0 when empty). */
  lastId(workspaceId: string): Promise<number> {
    return this.store.activity.lastId(workspaceId);
  }
}

/** An entry as served: its `internal` part stays in the hub. */
export function activityView(row: ActivityTable): ActivityEvent {
  return {
    id: Number(row.id),
    type: row.type,
    ts: iso(row.ts) as string,
    actor:
      row.actor_kind && row.actor_id
        ? { kind: row.actor_kind as Party['kind'], id: row.actor_id, name: row.actor_name ?? row.actor_id }
        : null,
    subject: row.subject,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

/** What the hub's own readers keep of an entry (nothing for most). */
export function internalOf(row: ActivityTable): ActivityInternal {
  return row.internal ? (JSON.parse(row.internal) as ActivityInternal) : {};
}
