/** A real hub for a test file: SQLite in a temp folder, port 0 on 127.0.0.1, removed by `stop`. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type HubOptions, type RunningHub } from '../src/server.ts';

export interface TempHub {
  hub: RunningHub;
  /** The owner's token from the first start. */
  ownerToken: string;
  /** The hub's data folder; its SQLite database is `hub.db` in it. */
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTempHub(
  prefix: string,
  settings?: HubOptions['settings'],
  options: Partial<HubOptions> = {},
): Promise<TempHub> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const db = join(dir, 'hub.db');
  const hub = await startHub({ host: '127.0.0.1', port: 0, db, dataDir: dir, settings, ...options });
  const ownerToken = hub.bootstrap.ownerToken ?? '';
  if (!ownerToken.startsWith('gnt_u_')) throw new Error('a fresh hub wrote no owner token');
  return {
    hub,
    ownerToken,
    dataDir: dir,
    stop: async () => {
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
