/** REST bodies for users, roles, workspaces and tokens (DESIGN §5). */
import * as z from 'zod';
import { nameSchema } from './resources.ts';

export const roleNames = ['owner', 'admin', 'member'] as const;
export const roleSchema = z.enum(roleNames);

/** A user's membership of one workspace. */
export const userSchema = z.object({
  id: z.string(),
  handle: z.string(),
  role: roleSchema,
  workspaceId: z.string(),
  createdAt: z.string(),
});
export type User = z.infer<typeof userSchema>;

export const createUserSchema = z.strictObject({ handle: nameSchema, role: roleSchema.optional() });
/** Returned once, when a user is added: the token is never shown again. */
export const createdUserSchema = z.object({ user: userSchema, token: z.string() });

export const workspaceSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The caller's role in it. */
  role: roleSchema.nullable(),
  /** The workspace this request acted in. */
  current: z.boolean(),
  createdAt: z.string(),
});
export type Workspace = z.infer<typeof workspaceSchema>;

export const createWorkspaceSchema = z.strictObject({ name: nameSchema });
/** The new workspace and a token for the caller's owner membership in it, shown once. */
export const createdWorkspaceSchema = z.object({
  workspace: workspaceSchema,
  user: userSchema,
  token: z.string(),
});

export const tokenKindNames = ['user', 'agent', 'gateway'] as const;

export const tokenSchema = z.object({
  id: z.string(),
  kind: z.enum(tokenKindNames),
  /** A user's handle, an agent's or a gateway's name. */
  owner: z.string(),
  ownerId: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revoked: z.boolean(),
  revokedAt: z.string().nullable(),
  /** The token this request was made with. */
  current: z.boolean(),
});
export type TokenInfo = z.infer<typeof tokenSchema>;

export const createTokenSchema = z.strictObject({
  /** Lifetime in milliseconds; none: until revoked. */
  expiresInMs: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * 86_400_000)
    .optional(),
});
export const createdTokenSchema = z.object({ token: tokenSchema, secret: z.string() });

/** `POST /v1/agents/:ref/rotate-key`. */
export const rotateKeySchema = z.strictObject({
  /** The new key's lifetime in milliseconds; none: until revoked. */
  expiresInMs: createTokenSchema.shape.expiresInMs,
  /** Answer the key even when a connected gateway serving the agent was handed it. */
  printKey: z.boolean().optional(),
});
export type RotateKey = z.infer<typeof rotateKeySchema>;

export const rotatedKeySchema = z.object({
  agent: z.object({ id: z.string(), name: z.string() }),
  /** Null when the gateways serving the agent hold it (they were handed it) and `printKey` was not asked. */
  key: z.string().nullable(),
  expiresAt: z.string().nullable(),
  /** The connected gateways that were handed the new key. */
  gateways: z.array(z.string()),
  /** The agent keys this revoked. */
  revoked: z.array(z.string()),
});
export type RotatedKey = z.infer<typeof rotatedKeySchema>;
