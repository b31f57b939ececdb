/**
 * Who is listening on their inbox right now: the open `inbox` waits per agent or user id, and when
 * each last called `inbox`. In memory only: a restart rightly forgets them. This process's own waits
 * are counted here; with several hubs of one system, what the others report (`heard`, through the
 * bus: presence-sync.ts) is added, and forgotten when a hub stops reporting (it died).
 */
export interface PresenceReport {
  id: string;
  /** Inbox waits open on the reporting hub now. */
  open: number;
  /** Its last inbox contact there (epoch ms), if any. */
  at: number | null;
}

export class Presence {
  private readonly open = new Map<string, number>();
  private readonly lastCall = new Map<string, number>();
  /** Per other hub process and id: what it last reported, and when (`seen`). */
  private readonly others = new Map<string, Map<string, PresenceReport & { seen: number }>>();
  /** Hears every change of this process's own presence (set by presence-sync.ts). */
  onChange: ((id: string) => void) | undefined;

  constructor(
    private readonly now: () => number = Date.now,
    /** Another hub's open waits not reported again within this no longer count (it died). */
    private readonly staleMs = 30_000,
  ) {}

  /** Records an inbox call (with or without a wait). */
  inboxCalled(id: string): void {
    this.lastCall.set(id, this.now());
    this.onChange?.(id);
  }

  /** Counts an open wait until the returned function is called (once). */
  enterWait(id: string): () => void {
    this.open.set(id, (this.open.get(id) ?? 0) + 1);
    this.inboxCalled(id);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const n = (this.open.get(id) ?? 1) - 1;
      if (n > 0) this.open.set(id, n);
      else this.open.delete(id);
      // The end of a wait is a contact too: a waiter that got mail is handling it, and comes back.
      this.inboxCalled(id);
    };
  }

  /** Whether `id` has an inbox wait open now (on this hub, or one of the system that reported it). */
  waiting(id: string): boolean {
    return this.waits(id) > 0;
  }

  /** How many inbox waits `id` has open now. */
  waits(id: string): number {
    let n = this.open.get(id) ?? 0;
    const now = this.now();
    for (const other of this.others.values()) {
      const report = other.get(id);
      if (report && now - report.seen <= this.staleMs) n += report.open;
    }
    return n;
  }

  /** When `id` last called `inbox` or a wait of it ended (epoch ms), if ever since this hub started. */
  lastInboxAt(id: string): number | undefined {
    let last = this.lastCall.get(id);
    for (const other of this.others.values()) {
      const at = other.get(id)?.at;
      if (at != null && (last === undefined || at > last)) last = at;
    }
    return last;
  }

  /** This process's own presence of `id` (what it reports to other hubs). */
  own(id: string): PresenceReport {
    return { id, open: this.open.get(id) ?? 0, at: this.lastCall.get(id) ?? null };
  }

  /** Every id with a wait open here now. */
  openIds(): string[] {
    return [...this.open.keys()];
  }

  /** Another hub process reported ids' presence there (a change, or its periodic report of open waits). */
  heard(node: string, reports: PresenceReport[]): void {
    let other = this.others.get(node);
    if (!other) this.others.set(node, (other = new Map()));
    const seen = this.now();
    for (const report of reports) other.set(report.id, { ...report, seen });
  }
}
