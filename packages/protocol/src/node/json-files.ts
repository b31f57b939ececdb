/**
 * Reading and writing the gateway's and the CLI's JSON files; anything holding a credential is 0600
 * in a 0700 folder of this user's (a looser folder of ours is tightened with a warning, another's refused).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Reader } from '../answers.ts';
import { GantryError } from '../gantry-error.ts';
import { writePrivateFile } from './private-files.ts';

export function writeSecretFile(path: string, content: string): void {
  writePrivateFile(path, content);
}

export function writeSecretJson(path: string, value: unknown): void {
  writeSecretFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads and validates a JSON file; `undefined` when it does not exist. */
export function readJsonFile<T>(path: string, schema: Reader<T>): T | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GantryError(
      'invalid_request',
      `${path} is not valid JSON (${(err as Error).message}); fix or remove it`,
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GantryError(
      'invalid_request',
      `${path} is not a valid file of its kind (${issue?.path.join('.')}: ${issue?.message}); fix or remove it`,
    );
  }
  return parsed.data;
}
