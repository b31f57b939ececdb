/**
 * A gateway cut off from its hub past lease + grace stops its own runs (DESIGN §3): by then the
 * hub has given them up and may run them again elsewhere. Contact is any frame, ping or pong from
 * the hub, timed by the wall clock, so a suspended laptop or a SIGSTOP counts all the time it
 * slept. The check runs on a timer and before any frame or run output is handled, so a gateway
 * waking from a freeze stops those runs before it does anything else.
 */

/** The hub's grace when its `hello_ok` does not say (older hubs): DESIGN §9's default. */
export const defaultGraceMs = 120_000;

export interface HubTiming {
  leaseMs: number;
  heartbeatMs: number;
  graceMs?: number | undefined;
}

export class ContactFence {
  /** Wall-clock time of the last contact; undefined before the first and after a cut-off. */
  private last: number | undefined;
  private limitMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onCutOff: (silentMs: number) => void) {}

  /** Takes the hub's timing (from `hello_ok`) and checks every second, or every heartbeat if shorter. */
  configure(timing: HubTiming, now = Date.now()): void {
    this.limitMs = timing.leaseMs + (timing.graceMs ?? defaultGraceMs);
    this.last ??= now;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.check(), Math.min(1000, timing.heartbeatMs));
    this.timer.unref();
  }

  /** The hub's lease + grace, once its `hello_ok` said. */
  get limit(): number | undefined {
    return this.limitMs;
  }

  /** A sign of the hub: the silence before it is judged first, then it counts as contact. */
  contact(now = Date.now()): void {
    this.check(now);
    this.last = now;
  }

  check(now = Date.now()): void {
    if (this.last === undefined || this.limitMs === undefined) return;
    const silentMs = now - this.last;
    if (silentMs <= this.limitMs) return;
    this.last = undefined; // once per silence
    this.onCutOff(silentMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
