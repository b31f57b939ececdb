/**
 * A folder's pass-through registration: `.gantry/config.toml` in the folder (DESIGN §7), found by
 * walking up from the working folder. It names the agent, the hub and the gateway, and holds no
 * secret: the gateway keeps the agent's key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import * as z from 'zod';
import { GantryError } from '@gantry/protocol';

const folderConfigSchema = z.object({
  agent: z.object({ name: z.string() }),
  hub: z.object({ url: z.string() }),
  gateway: z.object({ id: z.string() }),
});

export interface FolderConfig {
  /** The registered folder (where `.gantry/` is). */
  root: string;
  file: string;
  agent: string;
  hubUrl: string;
  gatewayId: string;
}

export function folderConfigFile(root: string): string {
  return join(root, '.gantry', 'config.toml');
}

/** The registration of `start` or the nearest folder above it; undefined when there is none. */
export function findFolderConfig(start = process.cwd()): FolderConfig | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const file = folderConfigFile(dir);
    if (existsSync(file)) return readFolderConfig(dir, file);
    if (dirname(dir) === dir) return undefined;
  }
}

function readFolderConfig(root: string, file: string): FolderConfig {
  let parsed;
  try {
    parsed = folderConfigSchema.safeParse(parseToml(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new GantryError('invalid_request', `${file} is not valid TOML (${(err as Error).message})`);
  }
  if (!parsed.success) {
    throw new GantryError(
      'invalid_request',
      `${file} needs [agent] name, [hub] url and [gateway] id: run \`gantry local init NAME\` again`,
    );
  }
  const { agent, hub, gateway } = parsed.data;
  return { root, file, agent: agent.name, hubUrl: hub.url, gatewayId: gateway.id };
}

export function writeFolderConfig(
  root: string,
  config: { agent: string; hubUrl: string; gatewayId: string },
): string {
  const file = folderConfigFile(root);
  mkdirSync(dirname(file), { recursive: true });
  const body = stringifyToml({
    agent: { name: config.agent },
    hub: { url: config.hubUrl },
    gateway: { id: config.gatewayId },
  });
  writeFileSync(
    file,
    `# Written by \`gantry local init\`. No secret here: the local gateway holds this agent's key.\n${body}\n`,
  );
  return file;
}
