/**
 * The gateway daemon: the process on this machine. It holds the one-daemon lock, gateway.db, the
 * agents' bindings, the device key and the attempt table (the machine's slots); keeps the spool's
 * heartbeat (runs outlive it: each hub takes back the runs an earlier process left); and owns the hub session (everything of the hub lives there: serving
 * several hubs is one session per hub) and the local API's runs.
 */
import { existsSync, unwatchFile, watchFile } from 'node:fs';
import { join } from 'node:path';
import type { Logger, OfferedAssignment } from '@gantry/protocol';
import { ensurePrivateFolder } from '@gantry/protocol/node';
import { AgentBindings } from './agent-bindings.ts';
import { AttemptTable, type AttemptState } from './attempts.ts';
import { loadDeviceKey } from './device-key.ts';
import { HubSet } from './hub-set.ts';
import { LocalRuns } from './local-runs.ts';
import { newAttempt, type Placement } from './new-attempt.ts';
import type { GantryPaths } from '@gantry/protocol/node';
import { defaultPermissionTimeoutMs } from './permissions.ts';
import { ErrorRecorder } from './error-recorder.ts';
import { defaultStopGraces, type StopGraces } from './providers/process-group.ts';
import type { Provider } from './providers/provider.ts';
import type { JobContext } from './run-provider.ts';
import { loadSessions, type GatewaySession } from './session-file.ts';
import { Spool } from './spool/run-spool.ts';
import { GatewayDb } from './state/gateway-db.ts';
import { acquirePidLock, type PidLock } from './state/pid-lock.ts';

export interface GatewayOptions {
  paths: GantryPaths;
  /** The hubs to serve, one registration each (the session file's `hubs`). */
  sessions: GatewaySession[];
  /** Attempts at once on this gateway (default 4). */
  concurrency?: number;
  /** Extra provider arguments for this run of the daemon (`--provider-arg`). */
  providerArgs?: string[];
  graces?: StopGraces;
  /** How much the outbox may hold during a hub outage before providers are slowed (default 512 MiB). */
  outboxMaxBytes?: number;
  /** How long an `ask` permission request waits for a user before it is denied (default 10 min). */
  permissionTimeoutMs?: number;
  log: Logger;
}

export const defaultOutboxMaxBytes = 512 * 1024 * 1024;

export interface RunningAttempt {
  assignmentId: string;
  attempt: number;
  agent: string;
  state: AttemptState;
  workdir: string;
}

export class Gateway {
  readonly db: GatewayDb;
  readonly localRuns: LocalRuns;
  private readonly lock: PidLock;
  private readonly table: AttemptTable;
  private readonly bindings: AgentBindings;
  private readonly hubs: HubSet;
  private watchingSessions = false;
  private stopping = false;
  private roomWaiter: Promise<void> | undefined;
  readonly startedAt = new Date();
  private readonly errors: ErrorRecorder;
  /** Where hub runs are spooled so they outlive this process; `lastAlive`: when the previous one was last alive. */
  private readonly spool: Spool;
  private lastAlive: number | undefined;

  constructor(private readonly options: GatewayOptions) {
    const { paths, sessions } = options;
    this.errors = new ErrorRecorder(options.log);
    const log = this.errors.log;
    this.table = new AttemptTable(options.concurrency ?? 4);
    this.bindings = new AgentBindings(
      paths.bindingsFile,
      () => this.hubs.sessions,
      this.graces,
      paths.data,
      log,
    );
    // Both hold credentials (session, device key, run tokens, outbox): readable by this user only.
    const warn = (message: string) => log.warn(message);
    ensurePrivateFolder(paths.config, warn);
    ensurePrivateFolder(paths.data, warn);
    // Made here when missing: a copied session without its key is then refused by the hub.
    const deviceKey = loadDeviceKey(paths.data, { create: true });
    this.lock = acquirePidLock(paths.pidFile);
    this.spool = new Spool(join(paths.data, 'spool'));
    try {
      this.spool.prepare(warn);
      // Read before this process's heartbeat starts: how long the runs were without a daemon.
      this.lastAlive = this.spool.lastAlive();
      this.db = new GatewayDb(paths.gatewayDb, warn);
    } catch (err) {
      this.lock.release();
      throw err;
    }
    try {
      this.hubs = new HubSet(
        {
          paths,
          db: this.db,
          table: this.table,
          bindings: this.bindings,
          deviceKey,
          newAttempt: (offer) => this.newAttempt(offer),
          room: () => this.outboxRoom(),
          permissionTimeoutMs: options.permissionTimeoutMs ?? defaultPermissionTimeoutMs,
          spool: this.spool,
          log,
        },
        sessions,
      );
    } catch (err) {
      this.close();
      throw err;
    }
    const session = this.session;
    const job: JobContext = {
      db: this.db,
      session,
      runDir: paths.runDir,
      worktreeDir: paths.worktreeDir,
      hubUrl: () => this.hubUrl,
    };
    this.localRuns = new LocalRuns({
      table: this.table,
      job,
      session: () => this.session,
      newAttempt: (offer, placement) => this.newAttempt(offer, placement),
      onSlotsChanged: () => this.hubs.report(),
    });
  }

  private get graces(): StopGraces {
    return this.options.graces ?? defaultStopGraces;
  }

  /** The first hub's registration: local runs and the local API's hub calls go there. */
  get session(): GatewaySession {
    const first = this.hubs.sessions[0] ?? this.options.sessions[0];
    if (!first) throw new Error('a gateway serves at least one hub');
    return first;
  }

  /**
   * The URL of the first hub system that the gateway is connected to now: after a failover, another
   * of its URLs than `session.serverUrl`. Local runs and the local API's hub calls go there.
   */
  get hubUrl(): string {
    return this.hubs.firstStatus()?.connectedUrl ?? this.session.serverUrl;
  }

  /** Every hub's registration. */
  get sessions(): GatewaySession[] {
    return this.hubs.sessions;
  }

  async start(): Promise<void> {
    this.spool.startHeartbeat();
    await this.hubs.recover(this.lastAlive, this.graces);
    this.spool.prune(this.hubs.heldRuns());
    this.bindings.watch(() => this.hubs.report());
    this.hubs.start();
    this.watchSessions();
    this.spool.startSpare();
  }

  /** Resolves true once connected to every hub, false if that takes longer than `ms`. */
  whenConnected(ms: number): Promise<boolean> {
    return this.hubs.whenConnected(ms);
  }

  /**
   * `gateway connect` and `gateway hubs remove` rewrite the session file while the daemon runs:
   * a new hub or agent is served at once, a removed hub no more (polled: the file is replaced).
   */
  private watchSessions(): void {
    const file = this.options.paths.sessionFile;
    let syncing = Promise.resolve();
    watchFile(file, { interval: 250 }, () => {
      syncing = syncing.then(async () => {
        if (this.stopping) return;
        try {
          if (existsSync(file)) await this.hubs.sync(loadSessions(file));
        } catch (err) {
          this.errors.log.warn('kept the hubs served: could not read the session file', {
            error: (err as Error).message,
          });
        }
      });
    });
    this.watchingSessions = true;
  }

  /**
   * Takes no new work (the hub is told there are no free slots), lets what runs finish and waits
   * until every result is delivered (the outbox is empty). Resolves true when all of that happened
   * within `timeoutMs` (no limit when undefined), false when it ran out; `stop()` follows either way.
   */
  async drain(timeoutMs?: number): Promise<boolean> {
    this.table.close();
    this.hubs.report();
    this.errors.log.info('draining: no new work; waiting for running work and its results', {
      runs: this.table.size,
      outbox: this.outboxDepth(),
    });
    const until = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    while (!this.stopping && (this.table.size > 0 || this.outboxDepth() > 0)) {
      if (Date.now() >= until) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  }

  /** Stops taking work, stops what runs (reported as stopped), flushes the outbox briefly, disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.table.close();
    this.bindings.close();
    if (this.watchingSessions) unwatchFile(this.options.paths.sessionFile);
    await Promise.all([this.hubs.stop(), this.localRuns.stop()]);
    this.close();
  }

  /**
   * A handover (`gateway restart`, `gateway service restart`): takes no new work and exits leaving
   * the hubs' spooled runs going; the next daemon process takes them back. Local runs are stopped.
   */
  async handOver(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.table.close();
    this.bindings.close();
    if (this.watchingSessions) unwatchFile(this.options.paths.sessionFile);
    await Promise.all([this.hubs.handOver(), this.localRuns.stop()]);
    this.close();
  }

  /** Releases the databases and the lock without a run (for a daemon that failed to start). */
  close(): void {
    this.spool.stopHeartbeat();
    this.hubs?.close();
    this.db.close();
    this.lock.release();
  }

  /** Frames waiting for any hub. */
  private outboxDepth(): number {
    return this.hubs.dbs.reduce((sum, db) => sum + db.outboxDepth(), 0);
  }

  status() {
    const first = this.hubs.firstStatus();
    return {
      connected: first?.connected ?? false,
      refused: first?.refused ?? null,
      pending: first?.pending ?? null,
      lastContactAt: first?.lastContactAt ?? null,
      serverUrl: this.session.serverUrl,
      /** The URL of the first hub system the gateway is connected to (several URLs: which one). */
      connectedUrl: first?.connectedUrl ?? null,
      gateway: { id: this.session.gatewayId, name: this.session.gatewayName },
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      draining: this.table.closed && !this.stopping,
      hubs: this.hubs.status(),
      lastError: this.errors.last ?? null,
      agents: this.sessions
        .flatMap((s) => s.agents)
        .map((a) => {
          const binding = this.bindings.of(a.id);
          return {
            id: a.id,
            name: a.name,
            provider: binding.provider,
            workdir: binding.workdir,
            parallel: this.bindings.parallelOf(binding),
          };
        }),
      concurrency: this.table.concurrency,
      running: this.table.list().map((run): RunningAttempt => ({
        assignmentId: run.offer.id,
        attempt: run.offer.attempt,
        agent: run.offer.agentName,
        state: run.state,
        workdir: run.workdir,
      })),
      outboxDepth: this.outboxDepth(),
    };
  }

  /** Whether each served agent's provider can run here, with its version (one check per provider and binary). */
  async providerChecks() {
    const checks = new Map<string, ReturnType<Provider['check']>>();
    return Promise.all(
      this.sessions
        .flatMap((s) => s.agents)
        .map(async (agent) => {
          const binding = this.bindings.of(agent.id);
          const key = `${binding.provider}:${binding.providerBin ?? ''}:${JSON.stringify(binding.settings)}`;
          let check = checks.get(key);
          if (!check) checks.set(key, (check = this.bindings.providerOf(binding).check()));
          return { agent: agent.name, agentId: agent.id, provider: binding.provider, ...(await check) };
        }),
    );
  }

  private newAttempt(offer: OfferedAssignment, placement?: Placement) {
    return newAttempt(this.bindings, this.options.providerArgs ?? [], offer, placement);
  }

  /**
   * During a hub outage the outbox grows on disk up to its budget; past it, providers wait here
   * (their output unread, so they slow down) until acks make room. Nothing is dropped.
   */
  private outboxRoom(): Promise<void> | undefined {
    const budget = this.options.outboxMaxBytes ?? defaultOutboxMaxBytes;
    if (this.outboxBytes() < budget) return undefined;
    this.roomWaiter ??= new Promise<void>((resolve) => {
      this.errors.log.warn('outbox over its budget: slowing provider output until the hub catches up', {
        bytes: this.outboxBytes(),
        budget,
      });
      const timer = setInterval(() => {
        if (this.outboxBytes() >= budget && !this.stopping) return;
        clearInterval(timer);
        this.roomWaiter = undefined;
        resolve();
      }, 25);
    });
    return this.roomWaiter;
  }

  private outboxBytes(): number {
    return this.hubs.dbs.reduce((sum, db) => sum + db.outboxBytes(), 0);
  }
}
