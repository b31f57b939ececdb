/**
 * Which saved registration a `gateway connect` continues: the one of the hub system at the URL
 * given (same URL, or the same `hubId` from its `/v1/health`), else none, so another hub system is
 * added next to the ones already served; with no URL, the first hub.
 */
import { hubIdAt, loadSessions, sameHub, type GatewaySession } from '@gantry/gateway';

export interface ConnectTarget {
  /** The registration with this hub system, if this machine has one. */
  saved: GatewaySession | undefined;
  /** Where values not given fall back to (the hub itself, else the first hub served). */
  defaults: GatewaySession | undefined;
  hubId: string | undefined;
}

export async function connectTarget(
  sessionFile: string,
  serverUrl: string | undefined,
): Promise<ConnectTarget> {
  const hubs = loadSessions(sessionFile);
  if (!serverUrl) return { saved: hubs[0], defaults: hubs[0], hubId: hubs[0]?.hubId };
  const url = serverUrl.replace(/\/+$/, '');
  const hubId = await hubIdAt(url);
  const saved = hubs.find((h) => sameHub(h, { serverUrl: url, ...(hubId ? { hubId } : {}) }));
  return { saved, defaults: saved ?? hubs[0], hubId };
}
