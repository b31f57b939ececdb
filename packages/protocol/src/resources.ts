/** REST bodies for workspaces, principals, agents and gateways (DESIGN §8). */
import * as z from 'zod';
import { agentKinds, principalKinds } from './vocabulary.ts';

export const namePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const nameSchema = z
  .string()
  .regex(namePattern, 'lower-case letters, digits, . _ - (up to 63, starting with a letter or digit)');

export { agentKinds, principalKinds } from './vocabulary.ts';

export const agentSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(agentKinds),
  workspaceId: z.string(),
  createdAt: z.string(),
  gateways: z.array(z.object({ id: z.string(), name: z.string(), connected: z.boolean() })),
  /** Paused: its mentions and assignments wait in the queue until it is resumed. */
  paused: z.boolean(),
  /** The template it was added from (`gantry agents add`), if any. */
  template: z.string().nullable().optional(),
});
export type Agent = z.infer<typeof agentSchema>;

/** `POST /v1/agents/:ref/pause` and `/resume`: the agent, and how much work waits in its queue. */
export const pauseResultSchema = z.object({ agent: agentSchema, queued: z.number().int() });
export type PauseResult = z.infer<typeof pauseResultSchema>;

export const createAgentSchema = z.strictObject({
  name: nameSchema,
  kind: z.enum(agentKinds).optional(),
});

/** Returned once, when an agent is created: the key is never shown again. */
export const createdAgentSchema = agentSchema.extend({ key: z.string() });

export const principalSchema = z.object({
  kind: z.enum(principalKinds),
  id: z.string(),
  name: z.string(),
  role: z.string().nullable(),
});
export type Principal = z.infer<typeof principalSchema>;

export const meSchema = z.object({
  principal: principalSchema,
  workspace: z.object({ id: z.string(), name: z.string() }),
});
export type Me = z.infer<typeof meSchema>;

/** `POST /v1/auth/exchange`: a short-lived access token (JWT) for the caller's long-lived token. */
export const accessTokenSchema = z.object({
  accessToken: z.string(),
  /** Epoch milliseconds. */
  expiresAt: z.number().int(),
  /** The long-lived token it speaks for: revoking that one ends this one. */
  tokenId: z.string(),
});
export type AccessToken = z.infer<typeof accessTokenSchema>;

export const healthSchema = z.object({
  ok: z.boolean(),
  version: z.string(),
  store: z.enum(['sqlite', 'postgres']),
  /** The hub system: every hub sharing one store reports the same id. */
  hubId: z.string(),
  uptimeMs: z.number(),
});
export type Health = z.infer<typeof healthSchema>;

export const gatewaySchema = z.object({
  id: z.string(),
  name: z.string(),
  workspaceId: z.string(),
  connected: z.boolean(),
  lastSeenAt: z.string().nullable(),
  hostname: z.string().nullable(),
  version: z.string().nullable(),
  agents: z.array(z.object({ id: z.string(), name: z.string(), provider: z.string().nullable() })),
  runningAttempts: z.number().int(),
  createdAt: z.string(),
});
export type Gateway = z.infer<typeof gatewaySchema>;

/** `POST /v1/gateways/connect`, with an agent key as the bearer. */
export const gatewayConnectSchema = z.strictObject({
  name: nameSchema,
  provider: z.string().min(1).max(64),
  hostname: z.string().max(255).optional(),
  /** Re-attach to a gateway this machine already has; proven with `gatewayToken`. */
  gatewayId: z.string().optional(),
  gatewayToken: z.string().optional(),
  /** This install's Ed25519 device public key (PEM, SPKI) and OS user: its fingerprint (DESIGN §5). */
  publicKey: z.string().max(4096).optional(),
  osUser: z.string().max(255).optional(),
});
export type GatewayConnect = z.infer<typeof gatewayConnectSchema>;

export const gatewayConnectResultSchema = z.object({
  workspace: z.object({ id: z.string(), name: z.string() }),
  agent: z.object({ id: z.string(), name: z.string() }),
  gateway: z.object({ id: z.string(), name: z.string() }),
  /** Present when the hub minted a new gateway token (first connect, or the old one was not valid). */
  gatewayToken: z.string().optional(),
  /** Whether the hub trusts this device for the agent yet: `pending` waits for an owner or admin. */
  trust: z
    .object({
      status: z.enum(['trusted', 'pending', 'denied']),
      approvalId: z.string().nullable(),
      message: z.string(),
    })
    .optional(),
});
export type GatewayConnectResult = z.infer<typeof gatewayConnectResultSchema>;

/** `POST /v1/agents/:ref/keys`: another key for an agent, shown once. */
export const agentKeySchema = z.object({
  agent: z.object({ id: z.string(), name: z.string() }),
  key: z.string(),
});
