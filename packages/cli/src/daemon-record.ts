/**
 * `daemon.json` in the data folder: how the gateway daemon was last started — its settings (port,
 * config file, concurrency, ...), how it runs (detached, in the foreground, under a service
 * manager), its pid and log file — so `gateway restart` and the watchdog start it the same way.
 * It stays after the daemon exits; whether one runs is the pid lock's to say.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as z from 'zod';
import { processAlive, writeSecretJson, type GantryPaths } from '@gantry/gateway';

export const daemonSettingsSchema = z.object({
  port: z.number().int().optional(),
  config: z.string().optional(),
  concurrency: z.string().optional(),
  outboxMaxMb: z.string().optional(),
  providerArgs: z.array(z.string()).default([]),
});
export type DaemonSettings = z.infer<typeof daemonSettingsSchema>;

const recordSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  /** detached: `gateway start --detach`; service: under systemd/launchd; foreground: a terminal. */
  mode: z.enum(['detached', 'foreground', 'service']),
  /** Null when the journal keeps the log. */
  logFile: z.string().nullable(),
  localApiUrl: z.string(),
  settings: daemonSettingsSchema,
});
export type DaemonRecord = z.infer<typeof recordSchema>;

export function readDaemonRecord(paths: GantryPaths): DaemonRecord | undefined {
  if (!existsSync(paths.daemonFile)) return undefined;
  try {
    return recordSchema.parse(JSON.parse(readFileSync(paths.daemonFile, 'utf8')));
  } catch {
    return undefined; // half-written or from another version: started afresh from defaults
  }
}

export function writeDaemonRecord(paths: GantryPaths, record: DaemonRecord): void {
  writeSecretJson(paths.daemonFile, record);
}

/** The pid of the daemon running from this data folder (its lock), or undefined. */
export function runningPid(paths: GantryPaths): number | undefined {
  if (!existsSync(paths.pidFile)) return undefined;
  const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
}

/** The `gateway start` arguments that start a daemon with these settings again. */
export function startArguments(settings: DaemonSettings): string[] {
  return [
    ...(settings.port !== undefined ? ['--port', String(settings.port)] : []),
    ...(settings.config ? ['--config', settings.config] : []),
    ...(settings.concurrency ? ['--concurrency', settings.concurrency] : []),
    ...(settings.outboxMaxMb ? ['--outbox-max-mb', settings.outboxMaxMb] : []),
    ...settings.providerArgs.flatMap((arg) => ['--provider-arg', arg]),
  ];
}
