/**
 * Inbox waits parked on this hub, so a send hands its mail to one at once. In the send's own
 * transaction it claims for the wait exactly what the wait's own claim would (the oldest unread
 * mail no inbox call has handed out, up to its limit, marked read with its `message.read` entry
 * when asked), and the wait answers with that after the commit: no read and no transaction of its
 * own per wake-up. A wait is taken only while parked (between its own reads, never during one) and
 * by one send at a time; a send that fails or claims nothing gives it back, and it goes on as before
 * (woken by the bus, claiming for itself). Waits on other hubs of the system always claim for themselves.
 */
import { messageRead, type Party } from '@gantry/protocol';
import type { Activity, NewActivity, Tx } from './activity.ts';
import type { Actor } from './actor.ts';
import type { ActivityRow } from '../store/activity.ts';

/** One open `inbox --wait`. */
export class InboxWait {
  /** Between its own reads: a send may take it. */
  parked = false;
  /** Set by the send that took it; resolves with the ids it claimed for it (undefined: none). */
  handoff: Promise<string[] | undefined> | undefined;

  constructor(
    readonly caller: Actor,
    readonly me: Party,
    readonly limit: number,
    readonly markRead: boolean,
    readonly signal?: AbortSignal,
  ) {}

  /** What a send claimed for it, once that send is done (undefined: nothing); clears the hand-off. */
  async handed(): Promise<string[] | undefined> {
    const ids = await this.handoff;
    this.handoff = undefined;
    return ids !== undefined && ids.length > 0 ? ids : undefined;
  }
}

/** A wait a send took, and how the send tells it what it claimed. */
export interface Taken {
  wait: InboxWait;
  ids?: string[];
  settle: (ids: string[] | undefined) => void;
}

/** What a claim took in a transaction, and its `message.read` entry to publish after the commit. */
export interface Claimed {
  ids: string[];
  entry?: ActivityRow;
}

export class InboxWaits {
  private readonly byRecipient = new Map<string, Set<InboxWait>>();

  constructor(private readonly activity: Activity) {}

  /** Registers a wait until the returned function is called. */
  add(wait: InboxWait): () => void {
    const id = wait.me.id;
    let set = this.byRecipient.get(id);
    if (!set) this.byRecipient.set(id, (set = new Set()));
    set.add(wait);
    return () => {
      wait.parked = false;
      set.delete(wait);
      if (set.size === 0 && this.byRecipient.get(id) === set) this.byRecipient.delete(id);
    };
  }

  /** How many of a recipient's waits a send could take now (for tests). */
  parkedFor(recipientId: string): number {
    return [...(this.byRecipient.get(recipientId) ?? [])].filter((w) => w.parked && !w.handoff).length;
  }

  /** Takes one parked wait of each recipient (none whose client left), for a send about to write. */
  take(recipientIds: readonly string[]): Taken[] {
    const taken: Taken[] = [];
    for (const id of recipientIds) {
      for (const wait of this.byRecipient.get(id) ?? []) {
        if (!wait.parked || wait.handoff || wait.signal?.aborted) continue;
        let settle: (ids: string[] | undefined) => void = () => undefined;
        wait.parked = false;
        wait.handoff = new Promise((resolve) => (settle = resolve));
        taken.push({ wait, settle });
        break;
      }
    }
    return taken;
  }

  /** In the send's transaction, after its mailbox rows: claims each taken wait's mail. */
  async claim(tx: Tx, taken: readonly Taken[], now: number): Promise<ActivityRow[]> {
    const entries: ActivityRow[] = [];
    for (const t of taken) {
      const { caller, me, limit, markRead } = t.wait;
      const claimed = await claimIn(tx, this.activity, caller, me, limit, markRead, now);
      t.ids = claimed.ids;
      if (claimed.entry) entries.push(claimed.entry);
    }
    return entries;
  }

  /** After the send: each taken wait hears what was claimed for it (nothing if the send failed). */
  settle(taken: readonly Taken[], committed: boolean): void {
    for (const t of taken) t.settle(committed ? t.ids : undefined);
  }
}

/**
 * Claims the oldest `limit` unread messages no other call took (marking them read in the same
 * statement, and their `message.read` entry in the same transaction).
 */
export async function claimIn(
  tx: Tx,
  activity: Activity,
  caller: Actor,
  me: Party,
  limit: number,
  markRead: boolean,
  now: number,
): Promise<Claimed> {
  const ids = await tx.mailbox.claimOldest(me.id, limit, { read: markRead, now });
  const entry =
    markRead && ids.length > 0
      ? await activity.record(tx, messageRead, readEntry(caller, me, ids), now)
      : undefined;
  return { ids, entry };
}

/** The `message.read` entry of messages the caller marked read. */
export function readEntry(caller: Actor, me: Party, messageIds: string[]): NewActivity<typeof messageRead> {
  return { workspaceId: caller.workspaceId, actor: me, data: { reader: me, messageIds } };
}
