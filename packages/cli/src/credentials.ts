/**
 * Which hub and which credential a command uses (DESIGN §7): the hub URL from `--hub` >
 * GANTRY_HUB_URL > the login; the token from `--token` > GANTRY_TOKEN > GANTRY_TOKEN_FILE (a run's
 * token, DESIGN §6a) > the login (`user.json`).
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { gantryPaths, readJsonFile, writeSecretJson } from '@gantry/protocol/node';

export const defaultHubUrl = 'http://127.0.0.1:7420';

const userFileSchema = z.object({
  url: z.string(),
  token: z.string(),
  principal: z.object({ kind: z.string(), id: z.string(), name: z.string() }),
  workspace: z.object({ id: z.string(), name: z.string() }),
  savedAt: z.string(),
});
export type UserFile = z.infer<typeof userFileSchema>;

export interface HubOptions {
  hub?: string;
  token?: string;
  /** The workspace to act in, by name or id, for a user in several (`--workspace`). */
  workspace?: string;
}

export interface ResolvedHub {
  /** The first of `urls`. */
  url: string;
  /** Several URLs of one hub system (`--hub A,B`, as a gateway takes them): tried in turn when one cannot be reached. */
  urls?: string[];
  urlSource: 'flag' | 'environment' | 'login' | 'default';
  token: string | undefined;
  tokenSource: 'flag' | 'environment' | 'login' | 'none';
  /** `--workspace` > GANTRY_WORKSPACE; none: the workspace of the token. */
  workspace?: string;
}

export function loadLogin(): UserFile | undefined {
  return readJsonFile(gantryPaths().userFile, userFileSchema);
}

export function saveLogin(login: Omit<UserFile, 'savedAt'>): string {
  const path = gantryPaths().userFile;
  writeSecretJson(path, { ...login, savedAt: new Date().toISOString() });
  return path;
}

/** A run's token file (GANTRY_TOKEN_FILE, DESIGN §6a); an unreadable one counts as no token. */
function tokenFromFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function resolveHub(options: HubOptions, env = process.env): ResolvedHub {
  const login = loadLogin();
  const url: [string, ResolvedHub['urlSource']] = options.hub
    ? [options.hub, 'flag']
    : env.GANTRY_HUB_URL
      ? [env.GANTRY_HUB_URL, 'environment']
      : login
        ? [login.url, 'login']
        : [defaultHubUrl, 'default'];
  const token: [string | undefined, ResolvedHub['tokenSource']] = options.token
    ? [options.token, 'flag']
    : env.GANTRY_TOKEN
      ? [env.GANTRY_TOKEN, 'environment']
      : env.GANTRY_TOKEN_FILE
        ? [tokenFromFile(env.GANTRY_TOKEN_FILE), 'environment']
        : login
          ? [login.token, 'login']
          : [undefined, 'none'];
  const workspace = options.workspace ?? (env.GANTRY_WORKSPACE || undefined);
  const urls = url[0]
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  return {
    url: urls[0] ?? url[0],
    urls: urls.length ? urls : [url[0]],
    urlSource: url[1],
    token: token[0],
    tokenSource: token[1],
    ...(workspace ? { workspace } : {}),
  };
}
