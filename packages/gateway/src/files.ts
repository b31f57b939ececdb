/** Reading and writing the gateway's JSON files; anything holding a credential is 0600 in a 0700 folder. */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { GantryError } from '@gantry/protocol';

export function writeSecretFile(path: string, content: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function writeSecretJson(path: string, value: unknown): void {
  writeSecretFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads and validates a JSON file; `undefined` when it does not exist. */
export function readJsonFile<T extends z.ZodType>(path: string, schema: T): z.infer<T> | undefined {
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
