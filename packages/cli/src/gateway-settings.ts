/**
 * Settings for `gateway connect|start|run`: flags > environment (GANTRY_*) > config file
 * (`[gateway]` in config.toml) > the saved session > defaults (DESIGN §7).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { GantryError, parseOrThrow } from '@gantry/protocol';
import { gantryPaths } from '@gantry/protocol/node';
import { hasProviderFlags, type ProviderFlags } from './provider-flags.ts';

export interface ConnectFlags extends ProviderFlags {
  serverUrl?: string;
  provider?: string;
  apiKey?: string;
  /** Read into `apiKey` before these settings are (see api-key.ts). */
  apiKeyFile?: string;
  gatewayName?: string;
  workspaceRoot?: string;
  providerBin?: string;
  providerArg?: string[];
  providerOption?: string[];
  config?: string;
}

const configSchema = z.object({
  gateway: z
    .object({
      server_url: z.string().optional(),
      provider: z.string().optional(),
      api_key: z.string().optional(),
      gateway_name: z.string().optional(),
      workspace_root: z.string().optional(),
      provider_bin: z.string().optional(),
      provider_args: z.array(z.string()).optional(),
      port: z.number().int().optional(),
      concurrency: z.number().int().positive().optional(),
      outbox_max_mb: z.number().positive().optional(),
      log_max_mb: z.number().positive().optional(),
      log_files: z.number().int().positive().optional(),
    })
    .default({}),
});
export type FileSettings = z.infer<typeof configSchema>['gateway'];

export function readConfigFile(path?: string): FileSettings {
  const file = path ?? gantryPaths().configFile;
  if (!existsSync(file)) {
    if (path) throw new GantryError('not_found', `config file ${path} does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = parseToml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GantryError('invalid_request', `${file} is not valid TOML: ${(err as Error).message}`);
  }
  return parseOrThrow(configSchema.loose(), raw, file).gateway;
}

/** The connect settings from flags, environment and config file (not the saved session). */
export function connectSettings(flags: ConnectFlags, env = process.env) {
  const file = readConfigFile(flags.config);
  const providerArgs = [...(flags.providerArg ?? []), ...(flags.providerOption ?? [])];
  return {
    serverUrl: flags.serverUrl ?? file.server_url,
    provider: flags.provider ?? file.provider,
    apiKey: flags.apiKey ?? env.GANTRY_API_KEY ?? file.api_key,
    gatewayName: flags.gatewayName ?? file.gateway_name,
    workspaceRoot: flags.workspaceRoot ?? file.workspace_root,
    providerBin: flags.providerBin ?? env.GANTRY_GENERIC_BIN ?? file.provider_bin,
    providerArgs: providerArgs.length > 0 ? providerArgs : file.provider_args,
    port: file.port,
    concurrency: file.concurrency,
    outboxMaxMb: env.GANTRY_OUTBOX_MAX_MB ?? file.outbox_max_mb,
    logMaxMb: file.log_max_mb,
    logFiles: file.log_files,
  };
}

/** Whether any flag that changes the registration was given on the command line. */
export function hasConnectFlags(flags: ConnectFlags): boolean {
  return (
    [
      flags.serverUrl,
      flags.provider,
      flags.apiKey,
      flags.gatewayName,
      flags.workspaceRoot,
      flags.providerBin,
    ].some((v) => v !== undefined) || hasProviderFlags(flags)
  );
}
