/** Timing of leases and heartbeats (DESIGN §9 defaults); tests make them short. */
export interface DispatchSettings {
  leaseMs: number;
  heartbeatMs: number;
  graceMs: number;
  /** A queued assignment no gateway picked up within this ends `expired`. */
  queueTtlMs: number;
}

export const defaultDispatchSettings: DispatchSettings = {
  leaseMs: 30_000,
  heartbeatMs: 10_000,
  graceMs: 120_000,
  queueTtlMs: 24 * 60 * 60 * 1000,
};
