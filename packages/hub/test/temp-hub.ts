/**
 * A real hub for a test file: SQLite in a temp folder, removed by `stop`; listening on port 0 on
 * 127.0.0.1 (`startTempHub`), or in-process only for REST tests (`createTempHub`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub, type CreateHubOptions, type Hub } from '../src/hub.ts';
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

/** A hub built with `createHub()` and never listening: its REST API is `request()` on the app. */
export interface InProcessHub {
  hub: Hub;
  ownerToken: string;
  /** `app.request()`: a path and a fetch `RequestInit`, no port. */
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export async function createTempHub(
  prefix: string,
  options: Partial<CreateHubOptions> = {},
): Promise<InProcessHub> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const hub = await createHub({ db: join(dir, 'hub.db'), dataDir: dir, ...options });
  await hub.start();
  const ownerToken = hub.bootstrap.ownerToken ?? '';
  if (!ownerToken.startsWith('gnt_u_')) throw new Error('a fresh hub wrote no owner token');
  return {
    hub,
    ownerToken,
    request: async (path, init) => hub.app.request(path, init),
    stop: async () => {
      await hub.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
