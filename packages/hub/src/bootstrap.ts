/**
 * First start of a hub: a workspace and its owner, whose token is written to `owner.token`
 * (0600) in the data folder. Later starts find them and change nothing.
 */
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { issueToken } from './auth/authenticate.ts';
import type { Store } from './store/store.ts';

export interface Bootstrap {
  workspaceId: string;
  /** Set on first start only: the owner's token, also written to `ownerTokenPath`. */
  ownerToken?: string;
  ownerTokenPath: string;
}

export async function bootstrap(store: Store, dataDir: string): Promise<Bootstrap> {
  const ownerTokenPath = join(dataDir, 'owner.token');
  const existing = await store.firstWorkspace();
  if (existing) return { workspaceId: existing.id, ownerTokenPath };
  const now = Date.now();
  const workspace = await store.createWorkspace('default', now);
  const owner = await store.createUser(workspace.id, 'owner', 'owner', now);
  const token = await issueToken(store, 'user', owner.id, workspace.id, now);
  writeSecretFile(ownerTokenPath, `${token}\n`);
  return { workspaceId: workspace.id, ownerToken: token, ownerTokenPath };
}

/** Writes a credential atomically, 0600, in a 0700 folder. */
export function writeSecretFile(path: string, content: string): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}
