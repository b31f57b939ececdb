/**
 * `gateway-session.json`: this machine's gateway registrations (0600), one per hub system it
 * serves (`hubs`). A file from before several hubs (one registration at the top level) is read as
 * a list of one.
 */
import * as z from 'zod';
import { readJsonFile, writeSecretJson } from '@gantry/protocol/node';
import { providerSettingsSchema } from './providers/settings.ts';

export const sessionSchema = z.object({
  serverUrl: z.string(),
  /**
   * Every URL of this hub system (`--hub URL1,URL2`), `serverUrl` first: when the hub the gateway is
   * connected to dies it moves to the next. Unset: `serverUrl` only.
   */
  urls: z.array(z.string()).optional(),
  /** The hub system (`/v1/health`): URLs with the same id are one system, served once. */
  hubId: z.string().optional(),
  /** This hub's gateway database in the data folder (its attempts and outbox): `gateway.db` when unset. */
  db: z.string().optional(),
  workspaceId: z.string(),
  gatewayId: z.string(),
  gatewayName: z.string(),
  gatewayToken: z.string(),
  provider: z.string(),
  providerBin: z.string().optional(),
  providerArgs: z.array(z.string()).default([]),
  /** Provider settings given at connect (`gateway run --sandbox ...`), for agents with no binding. */
  settings: providerSettingsSchema.default({}),
  workspaceRoot: z.string(),
  /** The local API port chosen at `gateway connect --port`, used by `gateway start` unless told otherwise. */
  localPort: z.number().int().min(0).max(65535).optional(),
  /**
   * Agents this gateway serves, each with its key (handed to its runs as GANTRY_TOKEN_FILE) and the
   * provider it was connected with, used when it has no binding.
   */
  agents: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      key: z.string(),
      provider: z.string().optional(),
      providerBin: z.string().optional(),
      settings: providerSettingsSchema.optional(),
    }),
  ),
  updatedAt: z.string(),
});
export type GatewaySession = z.infer<typeof sessionSchema>;

const fileSchema = z.union([
  z.object({ hubs: z.array(sessionSchema) }),
  sessionSchema.transform((single) => ({ hubs: [{ ...single, db: single.db ?? defaultDb }] })),
]);

const defaultDb = 'gateway.db';

/** The file name of a hub's gateway database in the data folder. */
export function dbFileOf(session: GatewaySession): string {
  return session.db ?? defaultDb;
}

/** Every URL of a hub system this gateway knows, the first (`serverUrl`) first, each once. */
export function urlsOf(session: Pick<GatewaySession, 'serverUrl' | 'urls'>): string[] {
  return [...new Set([session.serverUrl, ...(session.urls ?? [])])];
}

/** Whether two registrations are of one hub system (same `hubId`; same URL when an id is unknown). */
export function sameHub(
  a: Pick<GatewaySession, 'hubId' | 'serverUrl' | 'urls'>,
  b: Pick<GatewaySession, 'hubId' | 'serverUrl' | 'urls'>,
): boolean {
  if (a.hubId && b.hubId) return a.hubId === b.hubId;
  const known = urlsOf(a);
  return urlsOf(b).some((url) => known.includes(url));
}

/** Every hub this gateway serves, in the order they were connected. */
export function loadSessions(path: string): GatewaySession[] {
  return readJsonFile(path, fileSchema)?.hubs ?? [];
}

/** The first hub's registration (the one `gateway connect` with no `--server-url` reconnects). */
export function loadSession(path: string): GatewaySession | undefined {
  return loadSessions(path)[0];
}

/**
 * Saves one hub's registration: it replaces the one of the same hub system, or is added. A hub
 * added next to others gets its own gateway database, so outboxes and recovery stay per hub.
 */
export function saveSession(path: string, session: GatewaySession): void {
  const hubs = loadSessions(path);
  const at = hubs.findIndex((h) => sameHub(h, session) || h.gatewayId === session.gatewayId);
  const kept = at >= 0 ? hubs[at]?.db : undefined;
  const db = session.db ?? kept ?? (hubs.length === 0 ? defaultDb : `gateway-${session.gatewayId}.db`);
  session.db = db;
  if (at >= 0) hubs[at] = session;
  else hubs.push(session);
  saveSessions(path, hubs);
}

export function saveSessions(path: string, hubs: GatewaySession[]): void {
  const now = new Date().toISOString();
  for (const hub of hubs) hub.updatedAt = now;
  writeSecretJson(path, { hubs });
}
