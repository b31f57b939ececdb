/**
 * Checks both sides share: the Node version, and the state folders and credential files — each
 * writable by this user and private (0700/0600), with `auth doctor`'s own file-mode check. A loose
 * one is reported with its `chmod`, never tightened: the doctor changes nothing.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import type { GantryPaths } from '@gantry/gateway';
import { checkFiles } from '../commands/auth.ts';
import { error, ok, type Check } from './check.ts';

const minimumNode = [20, 19] as const;

export function nodeCheck(): Check {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const [wantMajor, wantMinor] = minimumNode;
  if (major > wantMajor || (major === wantMajor && minor >= wantMinor))
    return ok('node', `Node ${process.version}`);
  return error(
    'node',
    `Node ${process.version} is older than ${wantMajor}.${wantMinor}`,
    `install Node.js ${wantMajor}.${wantMinor} or newer (e.g. \`nvm install 20\`)`,
  );
}

/** The config and data folders (and a hub's `--data-dir`): writable, and with every secret in them private. */
export function folderChecks(paths: GantryPaths, dataDir?: string): Check[] {
  const checks: Check[] = [];
  for (const folder of [paths.config, paths.data, ...(dataDir ? [dataDir] : [])]) {
    if (!existsSync(folder)) {
      checks.push(ok(`folder ${folder}`, 'not made yet; made private (0700) on first use'));
      continue;
    }
    try {
      accessSync(folder, constants.W_OK);
    } catch {
      checks.push(
        error(
          `folder ${folder}`,
          'not writable by this user',
          `chown -R ${process.getuid?.() ?? '$USER'} ${folder}`,
        ),
      );
    }
  }
  const files = checkFiles(paths, dataDir, () => undefined);
  for (const file of files.filter((f) => !f.ok))
    checks.push(
      error(
        `private ${file.path}`,
        file.fix?.startsWith('chown')
          ? 'belongs to another user'
          : `mode ${file.mode}: other users may read it`,
        file.fix ?? `chmod go-rwx ${file.path}`,
      ),
    );
  if (files.every((f) => f.ok))
    checks.push(
      ok('private files', `${files.length} folder(s) and file(s) holding secrets are 0700/0600 and yours`),
    );
  return checks;
}
