/**
 * The agent key of `gateway connect|run|start`, kept out of the process list: from
 * `--api-key-file PATH`, `--api-key -` (standard input) or GANTRY_API_KEY. A plain `--api-key KEY`
 * still works (scripts use it), with a warning; the process has already wiped it from its
 * arguments (process-list.ts), so `ps` and /proc/<pid>/cmdline of a running gateway never show it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { GantryError } from '@gantry/protocol';
import { modeProblem, privateFileMode } from '@gantry/protocol/node';
import { readSecret } from './secret-prompt.ts';

export interface ApiKeyFlags {
  apiKey?: string;
  apiKeyFile?: string;
}

const saferForms = 'GANTRY_API_KEY, --api-key-file PATH or --api-key - (standard input)';

/** The flags with `apiKey` read from where they say; unchanged when neither flag is given. */
export async function withApiKey<T extends ApiKeyFlags>(flags: T): Promise<T> {
  const { apiKey, apiKeyFile } = flags;
  if (apiKey !== undefined && apiKeyFile !== undefined)
    throw new GantryError(
      'invalid_request',
      '--api-key and --api-key-file are two ways to give one key: pass one',
    );
  if (apiKeyFile !== undefined) return { ...flags, apiKey: keyFromFile(apiKeyFile) };
  if (apiKey === '-') {
    const key = await readSecret('Agent key: ', 'no agent key on standard input: pipe it in (`--api-key -`)');
    return { ...flags, apiKey: key };
  }
  if (apiKey !== undefined) {
    process.stderr.write(
      `gantry: warning: --api-key KEY shows the key to every user of this machine in the process list; pass it as ${saferForms}\n`,
    );
  }
  return flags;
}

function keyFromFile(path: string): string {
  if (!existsSync(path)) throw new GantryError('not_found', `--api-key-file ${path} does not exist`);
  const key = readFileSync(path, 'utf8').split(/\r?\n/)[0]?.trim() ?? '';
  if (!key)
    throw new GantryError('invalid_request', `--api-key-file ${path} is empty: write the agent key in it`);
  const loose = modeProblem(path, privateFileMode);
  if (loose)
    process.stderr.write(
      `gantry: warning: ${path}, which holds an agent key, ${loose.problem}: run \`${loose.fix}\`\n`,
    );
  return key;
}
