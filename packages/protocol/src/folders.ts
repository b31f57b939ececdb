/**
 * Pass-through folders (DESIGN §5): a folder on a gateway's machine that speaks for one agent. The
 * gateway registers it with its own token; it starts pending until a person approves it, and only
 * then does the hub hand the gateway that agent's key.
 */
import * as z from 'zod';
import { nameSchema } from './resources.ts';

export const folderStatuses = ['pending', 'connected', 'denied'] as const;
export type FolderStatus = (typeof folderStatuses)[number];

/** `POST /v1/gateways/folders` (gateway token). */
export const registerFolderSchema = z.strictObject({
  name: nameSchema,
  workdir: z.string().min(1).max(4096),
  host: z.string().min(1).max(255),
  osUser: z.string().min(1).max(255),
});
export type RegisterFolder = z.infer<typeof registerFolderSchema>;

export const folderSchema = z.object({
  id: z.string(),
  agent: z.object({ id: z.string(), name: z.string() }),
  gatewayId: z.string(),
  workdir: z.string(),
  host: z.string(),
  osUser: z.string(),
  status: z.enum(folderStatuses),
  approvalId: z.string(),
  createdAt: z.string(),
});
export type Folder = z.infer<typeof folderSchema>;

/** `POST /v1/gateways/folders/:id/connect` (gateway token): `needKey` asks for the agent's key once approved. */
export const connectFolderSchema = z.strictObject({ needKey: z.boolean().default(false) });

export const connectFolderResultSchema = z.object({
  folder: folderSchema,
  /** The agent's key, only when approved and asked for: the gateway keeps it (0600). */
  key: z.string().optional(),
});
export type ConnectFolderResult = z.infer<typeof connectFolderResultSchema>;

/** The gateway's local API: `POST /api/local/agents` and `POST /api/local/agents/connect`. */
export const localRegisterSchema = z.strictObject({
  name: nameSchema,
  workdir: z.string().min(1).max(4096),
});
export const localConnectSchema = z.strictObject({ workdir: z.string().min(1).max(4096) });

/** What `gantry local init|connect` print: never a key. */
export const localFolderSchema = z.object({
  status: z.enum(folderStatuses),
  agent: z.object({ id: z.string(), name: z.string() }),
  workdir: z.string(),
  approvalId: z.string(),
  gatewayId: z.string(),
  hubUrl: z.string(),
});
export type LocalFolder = z.infer<typeof localFolderSchema>;
