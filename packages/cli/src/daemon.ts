/**
 * The gateway daemon of this machine as the CLI sees it, through its local API: not running (no
 * address file, or its pid is gone), running but not answering, or running with its status.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { localToken, processAlive, type GantryPaths } from '@gantry/protocol/node';

const addressSchema = z.object({ url: z.string(), pid: z.number() });

const providerCheckSchema = z.object({
  agent: z.string(),
  agentId: z.string(),
  provider: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  version: z.string().optional(),
});

const liveSchema = z.object({
  connected: z.boolean(),
  refused: z.string().nullable(),
  /** Why the hub holds this gateway's hello (a device approval); absent from older daemons. */
  pending: z.string().nullable().optional(),
  lastContactAt: z.string().nullable(),
  agents: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      provider: z.string(),
      workdir: z.string().optional(),
      parallel: z.boolean().optional(),
    }),
  ),
  running: z.array(
    z.object({
      assignmentId: z.string(),
      attempt: z.number(),
      agent: z.string(),
      state: z.string(),
      workdir: z.string(),
    }),
  ),
  outboxDepth: z.number(),
  providers: z.array(providerCheckSchema),
  // Absent from older daemons.
  pid: z.number().optional(),
  startedAt: z.string().optional(),
  uptimeS: z.number().optional(),
  draining: z.boolean().optional(),
  connectedUrl: z.string().nullable().optional(),
  hubs: z
    .array(
      z.object({
        url: z.string(),
        /** Which URL of the hub system the session is connected to, and every one it knows. */
        connectedUrl: z.string().nullable().optional(),
        urls: z.array(z.string()).optional(),
        state: z.string(),
        lastContactAt: z.string().nullable(),
        gatewayId: z.string().optional(),
        hubId: z.string().nullable().optional(),
        agents: z.array(z.string()).optional(),
        outboxDepth: z.number().optional(),
        refused: z.string().nullable().optional(),
        pending: z.string().nullable().optional(),
        connected: z.boolean().optional(),
      }),
    )
    .optional(),
  lastError: z.object({ at: z.string(), level: z.string(), message: z.string() }).nullable().optional(),
});
export type LiveStatus = z.infer<typeof liveSchema> & { localApiUrl: string };

export type DaemonStatus =
  | { state: 'stopped' }
  | { state: 'unreachable'; pid: number; url: string; reason: string }
  | { state: 'running'; status: LiveStatus };

export async function daemonStatus(paths: GantryPaths): Promise<DaemonStatus> {
  if (!existsSync(paths.localApiAddressFile)) return { state: 'stopped' };
  let address: z.infer<typeof addressSchema>;
  try {
    address = addressSchema.parse(JSON.parse(readFileSync(paths.localApiAddressFile, 'utf8')));
  } catch {
    return { state: 'stopped' }; // half-written, or left by a crash: no daemon behind it
  }
  if (!processAlive(address.pid)) return { state: 'stopped' };
  try {
    const response = await fetch(`${address.url}/api/status`, {
      headers: { authorization: `Bearer ${localToken(paths)}` },
      signal: AbortSignal.timeout(3000),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return {
      state: 'running',
      status: { ...liveSchema.parse(await response.json()), localApiUrl: address.url },
    };
  } catch (err) {
    return { state: 'unreachable', pid: address.pid, url: address.url, reason: (err as Error).message };
  }
}

/** The running daemon's status, or undefined when none answers. */
export async function liveStatus(paths: GantryPaths): Promise<LiveStatus | undefined> {
  const daemon = await daemonStatus(paths);
  return daemon.state === 'running' ? daemon.status : undefined;
}
