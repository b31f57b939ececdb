/** `gateway-session.json`: this machine's gateway registration (0600). */
import { z } from 'zod';
import { readJsonFile, writeSecretJson } from '@gantry/protocol/node';
import { providerSettingsSchema } from './providers/settings.ts';

export const sessionSchema = z.object({
  serverUrl: z.string(),
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

export function loadSession(path: string): GatewaySession | undefined {
  return readJsonFile(path, sessionSchema);
}

export function saveSession(path: string, session: GatewaySession): void {
  writeSecretJson(path, { ...session, updatedAt: new Date().toISOString() });
}
