/** `gantry hub start`: a hub in the foreground. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GantryError, createLogger } from '@gantry/protocol';
import { gantryPaths } from '@gantry/protocol/node';
import { startHub, type ChainSettings, type DispatchSettings, type HandshakeLimits } from '@gantry/hub';
import { hubWebOptions, type HubWebFlags } from '../hub-web-options.ts';
import { parsePort, untilSignal } from '../lifecycle.ts';
import { printJsonLine, printLine } from '../output.ts';

export interface HubStartOptions extends HubWebFlags {
  host: string;
  port: string;
  db?: string;
  dataDir?: string;
  leaseMs?: string;
  heartbeatMs?: string;
  graceMs?: string;
  queueTtlMs?: string;
  chainMaxDepth?: string;
  chainMaxRuns?: string;
  /** An alias of `chainMaxDepth` (the limit it stood for is the chain's depth now). */
  mentionHopLimit?: string;
  maxPendingHandshakes?: string;
  maxPendingHandshakesPerAddress?: string;
  requireApproval?: boolean;
  json?: boolean;
}

/** `--require-approval` > GANTRY_REQUIRE_APPROVAL (1/true/yes) > off. */
export function requireApproval(flag: boolean | undefined, env = process.env): boolean {
  if (flag) return true;
  const value = env.GANTRY_REQUIRE_APPROVAL?.trim().toLowerCase();
  if (value === undefined || value === '' || ['0', 'false', 'no'].includes(value)) return false;
  if (['1', 'true', 'yes'].includes(value)) return true;
  throw new GantryError('invalid_request', 'GANTRY_REQUIRE_APPROVAL must be 1, true, yes, 0, false or no');
}

export function dispatchSettings(
  options: { leaseMs?: string; heartbeatMs?: string; graceMs?: string; queueTtlMs?: string },
  env = process.env,
): Partial<DispatchSettings> {
  const pick = (flag: string | undefined, name: string, what: string) => {
    const value = flag ?? env[name];
    if (value === undefined) return undefined;
    const ms = Number(value);
    if (!Number.isInteger(ms) || ms <= 0)
      throw new GantryError('invalid_request', `${what} must be a positive number of milliseconds`);
    return ms;
  };
  const settings: Partial<DispatchSettings> = {};
  const lease = pick(options.leaseMs, 'GANTRY_LEASE_MS', '--lease-ms');
  const heartbeat = pick(options.heartbeatMs, 'GANTRY_HEARTBEAT_MS', '--heartbeat-ms');
  const grace = pick(options.graceMs, 'GANTRY_GRACE_MS', '--grace-ms');
  const queueTtl = pick(options.queueTtlMs, 'GANTRY_QUEUE_TTL_MS', '--queue-ttl-ms');
  if (queueTtl) settings.queueTtlMs = queueTtl;
  if (lease) settings.leaseMs = lease;
  if (heartbeat) settings.heartbeatMs = heartbeat;
  if (grace) settings.graceMs = grace;
  return settings;
}

/**
 * Chains' limits: `--chain-max-depth` (alias `--mention-hop-limit`) > GANTRY_CHAIN_MAX_DEPTH (alias
 * GANTRY_MENTION_HOP_LIMIT) > 6, and `--chain-max-runs` > GANTRY_CHAIN_MAX_RUNS > 24.
 */
export function chainSettings(
  options: { chainMaxDepth?: string; chainMaxRuns?: string; mentionHopLimit?: string },
  env = process.env,
): Partial<ChainSettings> {
  const pick = (value: string | undefined, what: string) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new GantryError('invalid_request', `${what} must be a whole number of at least 1`);
    return n;
  };
  const depthFlag = options.chainMaxDepth ?? options.mentionHopLimit;
  const maxDepth = pick(
    depthFlag ?? env.GANTRY_CHAIN_MAX_DEPTH ?? env.GANTRY_MENTION_HOP_LIMIT,
    depthFlag === undefined ? 'GANTRY_CHAIN_MAX_DEPTH' : '--chain-max-depth',
  );
  const maxRuns = pick(
    options.chainMaxRuns ?? env.GANTRY_CHAIN_MAX_RUNS,
    options.chainMaxRuns === undefined ? 'GANTRY_CHAIN_MAX_RUNS' : '--chain-max-runs',
  );
  return {
    ...(maxDepth === undefined ? {} : { maxDepth }),
    ...(maxRuns === undefined ? {} : { maxRuns }),
  };
}

/** The caps on gateway sockets that have not finished hello: flags > environment > the hub's defaults. */
export function handshakeLimits(
  options: { maxPendingHandshakes?: string; maxPendingHandshakesPerAddress?: string },
  env = process.env,
): Partial<HandshakeLimits> {
  const pick = (flag: string | undefined, name: string, what: string) => {
    const value = flag ?? env[name];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new GantryError('invalid_request', `${what} must be a whole number of at least 1`);
    return n;
  };
  const total = pick(
    options.maxPendingHandshakes,
    'GANTRY_MAX_PENDING_HANDSHAKES',
    '--max-pending-handshakes',
  );
  const perAddress = pick(
    options.maxPendingHandshakesPerAddress,
    'GANTRY_MAX_PENDING_HANDSHAKES_PER_ADDRESS',
    '--max-pending-handshakes-per-address',
  );
  return {
    ...(total === undefined ? {} : { maxPending: total }),
    ...(perAddress === undefined ? {} : { maxPendingPerAddress: perAddress }),
  };
}

export async function hubStart(options: HubStartOptions): Promise<void> {
  const dataDir = options.dataDir ?? gantryPaths().data;
  const db = options.db ?? process.env.GANTRY_DATABASE_URL ?? join(dataDir, 'hub.db');
  const hub = await startHub({
    host: options.host,
    port: parsePort(options.port, 7420),
    db,
    dataDir,
    settings: dispatchSettings(options),
    chains: chainSettings(options),
    handshakes: handshakeLimits(options),
    requireApproval: requireApproval(options.requireApproval),
    ...hubWebOptions(options),
    log: createLogger('hub'),
  });
  const token = hub.bootstrap.ownerToken;
  // A second hub on one PostgreSQL finds the system made by the first: its owner token is in that
  // hub's data folder (or was moved), not in this one.
  const tokenFile = existsSync(hub.bootstrap.ownerTokenPath) ? hub.bootstrap.ownerTokenPath : null;
  // Before the ready line: a signal sent as soon as it shows is caught.
  const signalled = untilSignal();
  if (options.json) {
    printJsonLine({
      url: hub.url,
      dashboard: hub.dashboardUrl,
      store: hub.storeKind,
      ownerTokenFile: tokenFile,
      ...(token ? { ownerToken: token } : {}),
    });
  } else {
    printLine(`Gantry hub listening on ${hub.url} (${hub.storeKind})`);
    printLine(`dashboard: ${hub.dashboardUrl}  (sign in: gantry dashboard)`);
    if (token) {
      printLine(`First start: created workspace "default" and user "owner".`);
      printLine(`The owner's token is in ${hub.bootstrap.ownerTokenPath} (readable only by you).`);
      if (process.stdout.isTTY) printLine(`Owner token: ${token}`);
    }
    if (tokenFile)
      printLine(`Log in from another shell: gantry login --url ${hub.url} --token "$(cat ${tokenFile})"`);
    else
      printLine(
        `This store's system was set up before (by another hub on it, or with another data folder): no owner token in ${hub.bootstrap.ownerTokenPath}. Log in with a token of this system (the owner.token its first hub wrote, or one made with \`gantry tokens create\`): gantry login --url ${hub.url}`,
      );
  }
  const signal = await signalled;
  process.stderr.write(`gantry: ${signal}: stopping the hub\n`);
  await hub.close();
}
