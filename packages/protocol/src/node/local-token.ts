/** The token of the gateway's local API (0600 in the config folder): the gateway checks it, the CLI sends it. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeSecretFile } from './json-files.ts';
import type { GantryPaths } from './paths.ts';

/** The local token, created on first use. */
export function localToken(paths: GantryPaths): string {
  if (existsSync(paths.localApiTokenFile)) return readFileSync(paths.localApiTokenFile, 'utf8').trim();
  const token = randomBytes(32).toString('base64url');
  writeSecretFile(paths.localApiTokenFile, `${token}\n`);
  return token;
}
