/**
 * Who is listening on their inbox right now, as this hub process sees it: the open `inbox` waits
 * per agent or user id, and when each last called `inbox`. In memory only: it describes the
 * connections of this process, and a restart rightly forgets them.
 */
export class Presence {
  private readonly open = new Map<string, number>();
  private readonly lastCall = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records an inbox call (with or without a wait). */
  inboxCalled(id: string): void {
    this.lastCall.set(id, this.now());
  }

  /** Counts an open wait until the returned function is called (once). */
  enterWait(id: string): () => void {
    this.inboxCalled(id);
    this.open.set(id, (this.open.get(id) ?? 0) + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      // The end of a wait is a contact too: a waiter that got mail is handling it, and comes back.
      this.inboxCalled(id);
      const n = (this.open.get(id) ?? 1) - 1;
      if (n > 0) this.open.set(id, n);
      else this.open.delete(id);
    };
  }

  /** Whether `id` has an inbox wait open on this hub now. */
  waiting(id: string): boolean {
    return (this.open.get(id) ?? 0) > 0;
  }

  /** How many inbox waits `id` has open now. */
  waits(id: string): number {
    return this.open.get(id) ?? 0;
  }

  /** When `id` last called `inbox` or a wait of it ended (epoch ms), if ever since this hub started. */
  lastInboxAt(id: string): number | undefined {
    return this.lastCall.get(id);
  }
}
