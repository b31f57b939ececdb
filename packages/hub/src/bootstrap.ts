/**
 * First start of a hub: a workspace and its owner, whose token is written to `owner.token`
 * (0600) in the data folder, and the hub system's id (`hubId`, a meta row: every hub on one store
 * reports it, so a gateway knows two URLs are one system). Later starts find them and change nothing.
 */
import { join } from 'node:path';
import { tightenIfPresent, writePrivateFile, type Warn } from '@gantry/protocol/node';
import { issueToken } from './auth/authenticate.ts';
import { newId } from './ids.ts';
import type { Store } from './store/store.ts';

export interface Bootstrap {
  workspaceId: string;
  /** This hub system's id, made once per store. */
  hubId: string;
  /** Set on first start only: the owner's token, also written to `ownerTokenPath`. */
  ownerToken?: string;
  ownerTokenPath: string;
}

export async function bootstrap(store: Store, dataDir: string, warn?: Warn): Promise<Bootstrap> {
  const ownerTokenPath = join(dataDir, 'owner.token');
  tightenIfPresent(ownerTokenPath, warn);
  const hubId = await store.meta.setOnce('hubId', newId('hub'));
  const existing = await store.users.firstWorkspace();
  if (existing) return { workspaceId: existing.id, hubId, ownerTokenPath };
  const now = Date.now();
  const workspace = await store.users.createWorkspace('default', now);
  const owner = await store.users.create(workspace.id, 'owner', 'owner', now);
  const token = await issueToken(store, 'user', owner.id, workspace.id, now);
  writePrivateFile(ownerTokenPath, `${token}\n`, warn);
  return { workspaceId: workspace.id, hubId, ownerToken: token, ownerTokenPath };
}
