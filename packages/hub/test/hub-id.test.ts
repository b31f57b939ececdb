/**
 * The hub system's id: made once per store at first start, reported by `/v1/health` as `hubId`,
 * the same from every hub on one store (and after a restart), different on another store.
 * Runs on SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { healthSchema } from '@gantry/protocol';
import { createHub, type Hub } from '../src/hub.ts';
import { backends, type Provisioned } from './store-fixtures.ts';

describe.each(backends)('hubId ($kind)', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function provision(): Promise<Provisioned> {
    const provisioned = await backend.provision();
    cleanups.push(() => provisioned.dispose());
    return provisioned;
  }

  async function hubOn(location: string): Promise<Hub> {
    const dataDir = mkdtempSync(join(tmpdir(), 'gantry-hub-id-'));
    const hub = await createHub({ db: location, dataDir });
    await hub.start();
    cleanups.push(async () => {
      await hub.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    return hub;
  }

  const hubIdOf = async (hub: Hub) =>
    healthSchema.parse(await (await hub.app.request('/v1/health')).json()).hubId;

  it('is one id for every hub on one store, kept across restarts, and another on another store', async () => {
    const { location } = await provision();
    const first = await hubOn(location);
    const second = await hubOn(location);
    const id = await hubIdOf(first);
    expect(id).toMatch(/^hub_[0-9a-z]+$/);
    expect(await hubIdOf(second)).toBe(id);
    await first.stop();
    expect(await hubIdOf(await hubOn(location))).toBe(id);

    const other = await provision();
    expect(await hubIdOf(await hubOn(other.location))).not.toBe(id);
  });
});
