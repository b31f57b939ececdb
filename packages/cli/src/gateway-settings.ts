/**
 * The gateway's settings, each from the first place that has it: flags > environment (GANTRY_*) >
 * config file (`[gateway]` in config.toml, or `--config FILE`) > the saved session (what `gateway
 * connect` saved) > defaults (DESIGN §7). `gantry config show` prints each with where it came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import * as z from 'zod';
import { GantryError, parseOrThrow } from '@gantry/protocol';
import { gantryPaths } from '@gantry/protocol/node';
import { defaultGatewayName, type GatewaySession } from '@gantry/gateway';
import { hasProviderFlags, type ProviderFlags } from './provider-flags.ts';

export interface ConnectFlags extends ProviderFlags {
  /** `--hub`; `--server-url` is its alias. */
  hub?: string;
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
  port?: string;
  concurrency?: string;
  outboxMaxMb?: string;
  config?: string;
}

/** A hub URL, or several of one hub system: `"URL1,URL2"` or `["URL1", "URL2"]`. */
const hubUrlSchema = z.union([z.string(), z.array(z.string()).transform((urls) => urls.join(','))]);

const fileSchema = z.object({
  hub_url: hubUrlSchema.optional(),
  /** The older name of hub_url. */
  server_url: hubUrlSchema.optional(),
  provider: z.string().optional(),
  api_key: z.string().optional(),
  gateway_name: z.string().optional(),
  workspace_root: z.string().optional(),
  provider_bin: z.string().optional(),
  provider_args: z.array(z.string()).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  concurrency: z.number().int().positive().optional(),
  outbox_max_mb: z.number().positive().optional(),
  log_max_mb: z.number().positive().optional(),
  log_files: z.number().int().positive().optional(),
});
const configSchema = z.object({ gateway: fileSchema.default({}) });
export type FileSettings = z.infer<typeof fileSchema>;

/** The config file in use: `--config`, else GANTRY_CONFIG, else config.toml in the config folder. */
export function configPath(flags: { config?: string }, env = process.env): { path: string; named: boolean } {
  const named = flags.config ?? env.GANTRY_CONFIG;
  return named ? { path: resolve(named), named: true } : { path: gantryPaths().configFile, named: false };
}

export function readConfigFile(flags: { config?: string } = {}, env = process.env): FileSettings {
  const { path, named } = configPath(flags, env);
  if (!existsSync(path)) {
    if (named) throw new GantryError('not_found', `config file ${path} does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = parseToml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GantryError('invalid_request', `${path} is not valid TOML: ${(err as Error).message}`);
  }
  return parseOrThrow(configSchema.loose(), raw, path).gateway;
}

export type Source = 'flag' | 'environment' | 'file' | 'session' | 'default';
export interface Setting {
  value: string | number | string[] | undefined;
  source: Source | 'unset';
  /** The flag, variable or file key it came from. */
  from?: string;
  secret?: boolean;
}

type Value = Setting['value'];
interface Spec {
  flag?: [string, Value];
  env?: string;
  file?: [string, Value];
  session?: Value;
  default?: Value;
  secret?: boolean;
}

const first = (...values: (string | undefined)[]) => values.find((v) => v !== undefined);

/** Every documented key with where its value comes from, highest first. */
function specs(flags: ConnectFlags, file: FileSettings, session: GatewaySession | undefined) {
  const args = [...(flags.providerArg ?? []), ...(flags.providerOption ?? [])];
  return {
    hub_url: {
      flag: [flags.hub ? '--hub' : '--server-url', first(flags.hub, flags.serverUrl)],
      env: 'GANTRY_HUB_URL',
      file: [file.hub_url !== undefined ? 'hub_url' : 'server_url', file.hub_url ?? file.server_url],
      session: session?.serverUrl,
    },
    provider: {
      flag: ['--provider', flags.provider],
      file: ['provider', file.provider],
      session: session?.provider,
    },
    api_key: {
      flag: ['--api-key', flags.apiKey],
      env: 'GANTRY_API_KEY',
      file: ['api_key', file.api_key],
      session: session?.agents[0]?.key,
      secret: true,
    },
    gateway_name: {
      flag: ['--gateway-name', flags.gatewayName],
      env: 'GANTRY_GATEWAY_NAME',
      file: ['gateway_name', file.gateway_name],
      session: session?.gatewayName,
      default: defaultGatewayName(),
    },
    workspace_root: {
      flag: ['--workspace-root', flags.workspaceRoot],
      env: 'GANTRY_WORKSPACE_ROOT',
      file: ['workspace_root', file.workspace_root],
      session: session?.workspaceRoot,
      default: gantryPaths().defaultWorkspaceRoot,
    },
    provider_bin: {
      flag: ['--provider-bin', flags.providerBin],
      env: 'GANTRY_GENERIC_BIN',
      file: ['provider_bin', file.provider_bin],
      session: session?.providerBin,
    },
    provider_args: {
      flag: ['--provider-arg', args.length > 0 ? args : undefined],
      file: ['provider_args', file.provider_args],
      session: session?.providerArgs,
    },
    port: {
      flag: ['--port', flags.port],
      env: 'GANTRY_GATEWAY_PORT',
      file: ['port', file.port],
      session: session?.localPort,
      default: 7421,
    },
    concurrency: {
      flag: ['--concurrency', flags.concurrency],
      file: ['concurrency', file.concurrency],
      default: 4,
    },
    outbox_max_mb: {
      flag: ['--outbox-max-mb', flags.outboxMaxMb],
      env: 'GANTRY_OUTBOX_MAX_MB',
      file: ['outbox_max_mb', file.outbox_max_mb],
      default: 512,
    },
    log_max_mb: { file: ['log_max_mb', file.log_max_mb], default: 10 },
    log_files: { file: ['log_files', file.log_files], default: 5 },
  } satisfies Record<string, Spec>;
}
export type SettingKey = keyof ReturnType<typeof specs>;

function pick(spec: Spec, env: NodeJS.ProcessEnv, layers: Set<Source>): Setting {
  const secret = spec.secret ? { secret: true } : {};
  const envValue = spec.env ? env[spec.env] : undefined;
  const found: [Source, Value, string | undefined][] = [
    ['flag', spec.flag?.[1], spec.flag?.[0]],
    ['environment', envValue === '' ? undefined : envValue, spec.env],
    ['file', spec.file?.[1], spec.file?.[0]],
    ['session', spec.session, 'gateway-session.json'],
    ['default', spec.default, undefined],
  ];
  for (const [source, value, from] of found) {
    if (value === undefined || !layers.has(source)) continue;
    return { value, source, ...(from ? { from } : {}), ...secret };
  }
  return { value: undefined, source: 'unset', ...secret };
}

/**
 * Each setting's effective value and where it came from. `session` is the saved one to fall back
 * on; without `withDefaults`, a setting nothing gives stays unset (so the caller can tell).
 */
export function resolveSettings(
  flags: ConnectFlags,
  {
    env = process.env,
    session,
    withDefaults = true,
  }: { env?: NodeJS.ProcessEnv; session?: GatewaySession; withDefaults?: boolean } = {},
): Record<SettingKey, Setting> {
  const layers = new Set<Source>(['flag', 'environment', 'file']);
  if (session) layers.add('session');
  if (withDefaults) layers.add('default');
  const all = specs(flags, readConfigFile(flags, env), session) as Record<SettingKey, Spec>;
  return Object.fromEntries(
    Object.entries(all).map(([key, spec]) => [key, pick(spec, env, layers)]),
  ) as Record<SettingKey, Setting>;
}

const text = (s: Setting) => (s.value === undefined ? undefined : String(s.value));

/** The connect settings from flags, environment and config file (not the saved session, no defaults). */
export function connectSettings(flags: ConnectFlags, env = process.env) {
  const s = resolveSettings(flags, { env, withDefaults: false });
  return {
    serverUrl: text(s.hub_url),
    provider: text(s.provider),
    apiKey: text(s.api_key),
    gatewayName: text(s.gateway_name),
    workspaceRoot: text(s.workspace_root),
    providerBin: text(s.provider_bin),
    providerArgs: s.provider_args.value as string[] | undefined,
    port: text(s.port),
    concurrency: text(s.concurrency),
    outboxMaxMb: text(s.outbox_max_mb),
    logMaxMb: s.log_max_mb.value as number | undefined,
    logFiles: s.log_files.value as number | undefined,
  };
}

/** Whether any flag that changes the registration was given on the command line. */
export function hasConnectFlags(flags: ConnectFlags): boolean {
  return (
    [
      flags.hub,
      flags.serverUrl,
      flags.provider,
      flags.apiKey,
      flags.gatewayName,
      flags.workspaceRoot,
      flags.providerBin,
    ].some((v) => v !== undefined) || hasProviderFlags(flags)
  );
}
