/**
 * `gateway connect`: registers this machine's gateway with the hub using an agent key, or
 * re-attaches to the gateway the saved session names, and returns the session to save.
 */
import { hostname } from 'node:os';
import {
  errorBodySchema,
  GantryError,
  gatewayConnectResultSchema,
  namePattern,
  type ErrorCode,
  type GatewayConnect,
  type GatewayConnectResult,
} from '@gantry/protocol';
import { loadDeviceKey, osUser } from './device-key.ts';
import { gantryPaths } from '@gantry/protocol/node';
import type { ProviderSettings } from './providers/settings.ts';
import { sameHub, type GatewaySession } from './session-file.ts';

export interface RegisterInput {
  serverUrl: string;
  apiKey: string;
  provider: string;
  providerBin?: string;
  providerArgs: string[];
  settings: ProviderSettings;
  gatewayName: string;
  workspaceRoot: string;
  /** This machine's registration with the same hub system, if any (it re-attaches). */
  previous?: GatewaySession;
  /** The hub system at `serverUrl`, when the caller knows it already. */
  hubId?: string;
  /** Where the device key lives (default: the data folder of GANTRY_HOME or XDG). */
  dataDir?: string;
}

/** The saved session, and whether the hub trusts this device for the agent yet. */
export type Registration = GatewaySession & { trust?: GatewayConnectResult['trust'] };

/** A default gateway name from the host name, shaped to the hub's name rule. */
export function defaultGatewayName(): string {
  const name = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return namePattern.test(name) ? name : 'gateway';
}

/**
 * The hub system at a URL (`/v1/health`'s `hubId`): undefined when the hub does not answer (the
 * connect that follows says why) or is too old to say.
 */
export async function hubIdAt(serverUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(new URL('/v1/health', serverUrl), { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { hubId?: unknown };
    return typeof body.hubId === 'string' ? body.hubId : undefined;
  } catch {
    return undefined;
  }
}

export async function register(input: RegisterInput): Promise<Registration> {
  const hubId = input.hubId ?? (await hubIdAt(input.serverUrl));
  const isSameHub =
    input.previous !== undefined &&
    sameHub(input.previous, { serverUrl: input.serverUrl, ...(hubId ? { hubId } : {}) });
  const deviceKey = loadDeviceKey(input.dataDir ?? gantryPaths().data, { create: true });
  const body: GatewayConnect = {
    name: input.gatewayName,
    provider: input.provider,
    hostname: hostname(),
    osUser: osUser(),
    ...(deviceKey ? { publicKey: deviceKey.publicKey } : {}),
    ...(isSameHub && input.previous
      ? { gatewayId: input.previous.gatewayId, gatewayToken: input.previous.gatewayToken }
      : {}),
  };
  let response: Response;
  try {
    response = await fetch(new URL('/v1/gateways/connect', input.serverUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${input.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new GantryError('unavailable', `cannot reach the hub at ${input.serverUrl}: ${causeOf(err)}`);
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = errorBodySchema.safeParse(json);
    const code = (error.success ? error.data.error.code : 'internal') as ErrorCode;
    const message = error.success ? error.data.error.message : `the hub answered HTTP ${response.status}`;
    throw new GantryError(
      code,
      code === 'unauthorized' ? `the hub refused the API key: ${message}` : message,
    );
  }
  const result = gatewayConnectResultSchema.parse(json);
  const gatewayToken = result.gatewayToken ?? (isSameHub ? input.previous?.gatewayToken : undefined);
  if (!gatewayToken) throw new GantryError('internal', 'the hub returned no gateway token');
  // Agents already served stay when this is the same gateway; a new gateway starts with this agent only.
  const kept =
    isSameHub && input.previous?.gatewayId === result.gateway.id
      ? input.previous.agents.filter((a) => a.id !== result.agent.id)
      : [];
  return {
    serverUrl: input.serverUrl,
    ...(hubId ? { hubId } : {}),
    ...(isSameHub && input.previous?.db ? { db: input.previous.db } : {}),
    workspaceId: result.workspace.id,
    gatewayId: result.gateway.id,
    gatewayName: result.gateway.name,
    gatewayToken,
    provider: input.provider,
    ...(input.providerBin ? { providerBin: input.providerBin } : {}),
    providerArgs: input.providerArgs,
    settings: input.settings,
    workspaceRoot: input.workspaceRoot,
    agents: [
      ...kept,
      {
        ...result.agent,
        key: input.apiKey,
        provider: input.provider,
        ...(input.providerBin ? { providerBin: input.providerBin } : {}),
        settings: input.settings,
      },
    ],
    updatedAt: new Date().toISOString(),
    ...(result.trust ? { trust: result.trust } : {}),
  };
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
