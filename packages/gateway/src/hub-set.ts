/**
 * The hubs this daemon serves: one `HubSession` per hub system in the session file, each with its
 * own gateway database (its attempts and outbox), so one hub's outage, backlog or recovery never
 * touches another's. `sync` takes up the file as `gateway connect` and `gateway hubs remove` leave
 * it: a new hub is served at once, a removed one stopped, a hub whose agents changed says hello again.
 */
import { basename, join } from 'node:path';
import type { Logger, OfferedAssignment } from '@gantry/protocol';
import type { GantryPaths } from '@gantry/protocol/node';
import type { AgentBindings } from './agent-bindings.ts';
import type { Attempt, AttemptTable } from './attempts.ts';
import type { DeviceKey } from './device-key.ts';
import { hubState } from './error-recorder.ts';
import { HubSession } from './hub-session.ts';
import { dbFileOf, type GatewaySession } from './session-file.ts';
import type { StopGraces } from './providers/process-group.ts';
import type { Spool } from './spool/run-spool.ts';
import { GatewayDb } from './state/gateway-db.ts';

export interface HubSetDeps {
  paths: GantryPaths;
  /** The machine's gateway.db: the first hub's too. */
  db: GatewayDb;
  table: AttemptTable;
  bindings: AgentBindings;
  deviceKey: DeviceKey | undefined;
  newAttempt(offer: OfferedAssignment): Attempt;
  room(): Promise<void> | undefined;
  permissionTimeoutMs: number;
  spool?: Spool;
  log: Logger;
}

interface ServedHub {
  session: GatewaySession;
  db: GatewayDb;
  hub: HubSession;
}

export class HubSet {
  private readonly served = new Map<string, ServedHub>();
  private knownDbs: GatewayDb[] | undefined;
  private started = false;

  constructor(
    private readonly deps: HubSetDeps,
    sessions: GatewaySession[],
  ) {
    try {
      for (const session of sessions) this.add(session);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Every hub's registration, in the order they were connected. */
  get sessions(): GatewaySession[] {
    return [...this.served.values()].map((s) => s.session);
  }

  /** The gateway databases of the hubs (each once), the machine's first. */
  /** Asked for every line a provider prints (the outbox's budget): made again only when hubs change. */
  get dbs(): GatewayDb[] {
    this.knownDbs ??= [...new Set([this.deps.db, ...[...this.served.values()].map((s) => s.db)])];
    return this.knownDbs;
  }

  start(): void {
    this.started = true;
    for (const { hub } of this.served.values()) hub.start();
  }

  /** Each hub takes back (or reports lost) the runs an earlier daemon process left. */
  async recover(lastAlive: number | undefined, graces: StopGraces): Promise<void> {
    for (const { hub } of this.served.values()) await hub.recover(lastAlive, graces);
  }

  /** Every run a hub still holds (finished ones too, until the hub has their result). */
  heldRuns(): Set<string> {
    return new Set(this.dbs.flatMap((db) => db.attempts().map((a) => `${a.assignmentId}#${a.attempt}`)));
  }

  /** A handover: spooled runs are left going for the next daemon process. */
  async handOver(): Promise<void> {
    await Promise.all([...this.served.values()].map(({ hub }) => hub.handOver()));
    this.close();
  }

  report(): void {
    for (const { hub } of this.served.values()) hub.report();
  }

  /** Resolves true once every hub is connected, false if that takes longer than `ms`. */
  async whenConnected(ms: number): Promise<boolean> {
    const all = await Promise.all([...this.served.values()].map(({ hub }) => hub.whenConnected(ms)));
    return all.every(Boolean);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.served.values()].map(({ hub }) => hub.stop()));
    this.close();
  }

  /** Closes the hubs' own databases (the machine's is the daemon's to close). */
  close(): void {
    for (const { db } of this.served.values()) if (db !== this.deps.db) db.close();
  }

  status() {
    return [...this.served.values()].map(({ session, hub, db }) => {
      const status = hub.status();
      return {
        url: session.serverUrl,
        /** Which URL of the system the session is connected to, and every one it knows. */
        connectedUrl: status.connectedUrl,
        urls: status.urls,
        hubId: session.hubId ?? null,
        state: hubState(status),
        lastContactAt: status.lastContactAt,
        gatewayId: session.gatewayId,
        agents: session.agents.map((a) => a.name),
        outboxDepth: db.outboxDepth(),
        refused: status.refused,
        pending: status.pending,
        connected: status.connected,
      };
    });
  }

  /** The first hub's session status (what `gateway status` showed before several hubs). */
  firstStatus() {
    return [...this.served.values()][0]?.hub.status();
  }

  /** Takes up the session file as it is now: hubs added, removed, or with other agents. */
  async sync(sessions: GatewaySession[]): Promise<void> {
    const wanted = new Map(sessions.map((s) => [s.gatewayId, s]));
    for (const [gatewayId, served] of [...this.served]) {
      if (wanted.has(gatewayId)) continue;
      this.served.delete(gatewayId);
      this.knownDbs = undefined;
      this.deps.log.info('no longer serving a hub', { url: served.session.serverUrl });
      await served.hub.stop();
      if (served.db !== this.deps.db) served.db.close();
    }
    for (const session of sessions) {
      const served = this.served.get(session.gatewayId);
      if (!served) {
        const added = this.add(session);
        this.deps.log.info('serving a new hub', { url: session.serverUrl, agents: session.agents.length });
        if (this.started) added.hub.start();
        continue;
      }
      const agentsChanged = agentKeys(served.session) !== agentKeys(session);
      Object.assign(served.session, session);
      if (agentsChanged) {
        this.deps.bindings.reload();
        this.deps.log.info('the agents served changed: saying hello again', { url: session.serverUrl });
        served.hub.reconnect();
      }
    }
  }

  private add(session: GatewaySession): ServedHub {
    const { paths } = this.deps;
    const file = dbFileOf(session);
    const db =
      file === basename(paths.gatewayDb)
        ? this.deps.db
        : new GatewayDb(join(paths.data, file), (message) => this.deps.log.warn(message));
    const hub = new HubSession({
      session,
      paths,
      db,
      table: this.deps.table,
      bindings: this.deps.bindings,
      deviceKey: this.deps.deviceKey,
      job: { db, session, runDir: paths.runDir, worktreeDir: paths.worktreeDir },
      newAttempt: (offer) => this.deps.newAttempt(offer),
      room: () => this.deps.room(),
      permissionTimeoutMs: this.deps.permissionTimeoutMs,
      ...(this.deps.spool ? { spool: this.deps.spool } : {}),
      log: this.deps.log,
    });
    const served = { session, db, hub };
    this.served.set(session.gatewayId, served);
    this.knownDbs = undefined;
    return served;
  }
}

function agentKeys(session: GatewaySession): string {
  return JSON.stringify(session.agents.map((a) => [a.id, a.key]).sort());
}
