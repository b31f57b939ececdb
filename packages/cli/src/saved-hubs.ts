/**
 * Which saved registration a `gateway connect` continues: the one of the hub system at the URL
 * given (same URL, or the same `hubId` from its `/v1/health`), else none, so another hub system is
 * added next to the ones already served; with no URL, the first hub. Several URLs are of one
 * system (hub-urls.ts checked that): any of them known makes it the saved one.
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
  urls: string[] | undefined,
  /** The system's id when the caller checked it already (several URLs). */
  knownHubId?: string,
): Promise<ConnectTarget> {
  const hubs = loadSessions(sessionFile);
  const url = urls?.[0];
  if (!url) return { saved: hubs[0], defaults: hubs[0], hubId: hubs[0]?.hubId };
  const hubId = knownHubId ?? (await hubIdAt(url));
  const saved = hubs.find((h) => sameHub(h, { serverUrl: url, urls, ...(hubId ? { hubId } : {}) }));
  return { saved, defaults: saved ?? hubs[0], hubId };
}
