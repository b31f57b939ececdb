/** The hub's checks on this machine: its data folder, its database, its port and its service. */
import { join, resolve } from 'node:path';
import type { GantryPaths } from '@gantry/gateway';
import { error, ok, type Check } from './check.ts';
import { portFree, portHolder } from './port.ts';
import { serviceChecks } from './service-checks.ts';
import { sqliteCheck } from './sqlite.ts';
import { fetchWithin } from '../fetch-within.ts';

export async function hubSideChecks(paths: GantryPaths, port: number, dataDir?: string): Promise<Check[]> {
  const folder = dataDir ? resolve(dataDir) : paths.data;
  const checks: Check[] = [];
  const url = process.env.GANTRY_DATABASE_URL;
  if (url?.startsWith('postgres'))
    checks.push(ok('hub database', 'PostgreSQL (GANTRY_DATABASE_URL): checked when the hub starts'));
  else checks.push(await sqliteCheck('hub database', join(folder, 'hub.db')));
  checks.push(await hubPortCheck(port));
  checks.push(...serviceChecks('hub', paths));
  return checks;
}

/** Free, or a Gantry hub answering there, is fine; anything else keeps `hub start` from listening. */
async function hubPortCheck(port: number): Promise<Check> {
  const name = 'hub port';
  if (port === 0 || (await portFree(port)))
    return ok(name, port === 0 ? 'port 0: a free port is picked at start' : `${port} is free`);
  const health = await fetchWithin(`http://127.0.0.1:${port}/v1/health`, 3000)
    .then(async (r) => (r.ok ? ((await r.json()) as { version?: string }) : undefined))
    .catch(() => undefined);
  if (health)
    return ok(
      name,
      `${port}: a Gantry hub answers there${health.version ? ` (version ${health.version})` : ''}`,
    );
  return error(
    name,
    `${port} is taken by ${portHolder(port) ?? 'another process'}, not a Gantry hub`,
    `stop that process, or start the hub on another port: gantry hub start --port ${port + 1}`,
  );
}
