/** Timing of leases and heartbeats (DESIGN §9 defaults); tests make them short. */
export interface DispatchSettings {
  leaseMs: number;
  heartbeatMs: number;
  graceMs: number;
}

export const defaultDispatchSettings: DispatchSettings = {
  leaseMs: 30_000,
  heartbeatMs: 10_000,
  graceMs: 120_000,
};
