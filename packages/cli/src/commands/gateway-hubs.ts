/**
 * `gantry gateway hubs list|remove [--json]`: the hub systems this machine's gateway serves, each
 * with its URLs, the one it is connected to and its agents (when the daemon runs: its connection
 * state); `remove` stops serving one and
 * forgets its credentials (its registration, its agents' keys and bindings, its own database).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GantryError } from '@gantry/protocol';
import {
  dbFileOf,
  GatewayDb,
  gantryPaths,
  loadSessions,
  removeBinding,
  saveSessions,
  urlsOf,
  type GatewaySession,
} from '@gantry/gateway';
import { liveStatus } from '../daemon.ts';
import { printJson, printLine, table } from '../output.ts';

type Paths = ReturnType<typeof gantryPaths>;

export async function list(flags: { json?: boolean }): Promise<void> {
  const paths = gantryPaths();
  const live = await liveStatus(paths);
  const hubs = loadSessions(paths.sessionFile).map((session) => {
    const state = live?.hubs?.find((h) => h.gatewayId === session.gatewayId);
    return {
      url: session.serverUrl,
      /** Every URL of the hub system this gateway knows, and which one it is connected to now. */
      urls: urlsOf(session),
      connectedUrl: state?.connectedUrl ?? null,
      hubId: session.hubId ?? null,
      gatewayId: session.gatewayId,
      gatewayName: session.gatewayName,
      workspaceId: session.workspaceId,
      state: state?.state ?? (live ? 'connecting' : 'offline'),
      lastContactAt: state?.lastContactAt ?? null,
      agents: session.agents.map((a) => ({ id: a.id, name: a.name })),
    };
  });
  if (flags.json) return printJson(hubs);
  if (hubs.length === 0)
    return printLine('This gateway serves no hub yet: run `gantry gateway connect --hub URL ...`.');
  printLine(
    table([
      ['URL', 'CONNECTED TO', 'HUB ID', 'GATEWAY', 'STATE', 'AGENTS'],
      ...hubs.map((h) => [
        h.urls.join(','),
        h.connectedUrl ?? '-',
        h.hubId ?? '-',
        h.gatewayId,
        h.state,
        h.agents.map((a) => a.name).join(',') || '-',
      ]),
    ]),
  );
}

/**
 * Refuses while the hub has runs in flight or results not yet delivered (they would be lost)
 * unless `--force`; a running daemon takes the change up at once and stops that hub's runs.
 */
export async function remove(hub: string, flags: { force?: boolean; json?: boolean }): Promise<void> {
  const paths = gantryPaths();
  const hubs = loadSessions(paths.sessionFile);
  const target = hubs.find((h) =>
    [...urlsOf(h).flatMap((u) => [u, u.replace(/^https?:\/\//, '')]), h.hubId, h.gatewayId].includes(
      hub.replace(/\/+$/, ''),
    ),
  );
  if (!target) {
    const known = hubs.map((h) => h.serverUrl).join(', ') || 'none';
    throw new GantryError('not_found', `this gateway serves no hub '${hub}' (it serves: ${known})`);
  }
  const busy = inFlight(paths, target);
  if (!flags.force && (busy.runs > 0 || busy.outbox > 0))
    throw new GantryError(
      'conflict',
      `${target.serverUrl} has ${busy.runs} run(s) in flight and ${busy.outbox} result frame(s) not yet delivered: wait for them, or remove it anyway with --force (they are stopped and their results lost)`,
    );
  saveSessions(
    paths.sessionFile,
    hubs.filter((h) => h !== target),
  );
  for (const agent of target.agents) removeBinding(paths.bindingsFile, agent.id);
  const db = dbFileOf(target);
  // The machine's gateway.db stays (local runs use it); a hub's own database goes with the hub.
  if (db !== 'gateway.db' && !(await liveStatus(paths)))
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(paths.data, db + suffix), { force: true });
  const view = {
    removed: { url: target.serverUrl, hubId: target.hubId ?? null, gatewayId: target.gatewayId },
  };
  if (flags.json) return printJson(view);
  printLine(
    `Removed ${target.serverUrl}: its agents (${target.agents.map((a) => a.name).join(', ') || 'none'}) are no longer served here and their keys are forgotten.`,
  );
}

function inFlight(paths: Paths, hub: GatewaySession): { runs: number; outbox: number } {
  const file = join(paths.data, dbFileOf(hub));
  if (!existsSync(file)) return { runs: 0, outbox: 0 };
  const db = new GatewayDb(file);
  try {
    return {
      runs: db.attempts().filter((a) => a.state !== 'finished').length,
      outbox: db.outboxDepth(),
    };
  } finally {
    db.close();
  }
}
