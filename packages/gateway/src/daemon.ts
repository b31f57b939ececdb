/**
 * The gateway daemon: the process on this machine. It holds the one-daemon lock, gateway.db, the
 * agents' bindings, the device key and the attempt table (the machine's slots); sweeps runs an
 * earlier process left; and owns the hub session (everything of the hub lives there: serving
 * several hubs is one session per hub) and the local API's runs.
 */
import type { Logger, OfferedAssignment } from '@gantry/protocol';
import { ensurePrivateFolder } from '@gantry/protocol/node';
import { AgentBindings } from './agent-bindings.ts';
import { finishAttempt } from './attempt-runner.ts';
import { AttemptTable, runIdOf, type AttemptState } from './attempts.ts';
import { loadDeviceKey } from './device-key.ts';
import { HubSession } from './hub-session.ts';
import { LocalRuns } from './local-runs.ts';
import { newAttempt, type Placement } from './new-attempt.ts';
import type { GantryPaths } from '@gantry/protocol/node';
import { defaultPermissionTimeoutMs } from './permissions.ts';
import { ErrorRecorder, hubState } from './error-recorder.ts';
import { defaultStopGraces, stopRun, type StopGraces } from './providers/process-group.ts';
import type { Provider } from './providers/provider.ts';
import type { JobContext } from './run-provider.ts';
import type { GatewaySession } from './session-file.ts';
import { GatewayDb } from './state/gateway-db.ts';
import { acquirePidLock, type PidLock } from './state/pid-lock.ts';

export interface GatewayOptions {
  paths: GantryPaths;
  session: GatewaySession;
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
  private readonly hub: HubSession;
  private stopping = false;
  private roomWaiter: Promise<void> | undefined;
  readonly startedAt = new Date();
  private readonly errors: ErrorRecorder;

  constructor(private readonly options: GatewayOptions) {
    const { paths, session } = options;
    this.errors = new ErrorRecorder(options.log);
    const log = this.errors.log;
    this.table = new AttemptTable(options.concurrency ?? 4);
    this.bindings = new AgentBindings(paths.bindingsFile, session, this.graces, paths.data, log);
    // Both hold credentials (session, device key, run tokens, outbox): readable by this user only.
    const warn = (message: string) => log.warn(message);
    ensurePrivateFolder(paths.config, warn);
    ensurePrivateFolder(paths.data, warn);
    // Made here when missing: a copied session without its key is then refused by the hub.
    const deviceKey = loadDeviceKey(paths.data, { create: true });
    this.lock = acquirePidLock(paths.pidFile);
    try {
      this.db = new GatewayDb(paths.gatewayDb, warn);
    } catch (err) {
      this.lock.release();
      throw err;
    }
    const job: JobContext = { db: this.db, session, runDir: paths.runDir, worktreeDir: paths.worktreeDir };
    this.hub = new HubSession({
      session,
      paths,
      db: this.db,
      table: this.table,
      bindings: this.bindings,
      deviceKey,
      job,
      newAttempt: (offer) => this.newAttempt(offer),
      room: () => this.outboxRoom(),
      permissionTimeoutMs: options.permissionTimeoutMs ?? defaultPermissionTimeoutMs,
      log,
    });
    this.localRuns = new LocalRuns({
      table: this.table,
      job,
      session: () => this.session,
      newAttempt: (offer, placement) => this.newAttempt(offer, placement),
      onSlotsChanged: () => this.hub.report(),
    });
  }

  private get graces(): StopGraces {
    return this.options.graces ?? defaultStopGraces;
  }

  get session(): GatewaySession {
    return this.options.session;
  }

  async start(): Promise<void> {
    await this.sweepPreviousRuns();
    this.bindings.watch(() => this.hub.report());
    this.hub.start();
  }

  /** Resolves true once connected to the hub, false if that takes longer than `ms`. */
  whenConnected(ms: number): Promise<boolean> {
    return this.hub.whenConnected(ms);
  }

  /**
   * Takes no new work (the hub is told there are no free slots), lets what runs finish and waits
   * until every result is delivered (the outbox is empty). Resolves true when all of that happened
   * within `timeoutMs` (no limit when undefined), false when it ran out; `stop()` follows either way.
   */
  async drain(timeoutMs?: number): Promise<boolean> {
    this.table.close();
    this.hub.report();
    this.errors.log.info('draining: no new work; waiting for running work and its results', {
      runs: this.table.size,
      outbox: this.db.outboxDepth(),
    });
    const until = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    while (!this.stopping && (this.table.size > 0 || this.db.outboxDepth() > 0)) {
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
    await Promise.all([this.hub.stop(), this.localRuns.stop()]);
    this.close();
  }

  /** Releases the database and the lock without a run (for a daemon that failed to start). */
  close(): void {
    this.db.close();
    this.lock.release();
  }

  status() {
    const hub = this.hub.status();
    return {
      ...hub,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      draining: this.table.closed && !this.stopping,
      hubs: [
        {
          url: hub.serverUrl,
          state: hubState(hub),
          lastContactAt: hub.lastContactAt,
          gatewayId: hub.gateway.id,
        },
      ],
      lastError: this.errors.last ?? null,
      agents: this.session.agents.map((a) => {
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
      outboxDepth: this.db.outboxDepth(),
    };
  }

  /** Whether each served agent's provider can run here, with its version (one check per provider and binary). */
  async providerChecks() {
    const checks = new Map<string, ReturnType<Provider['check']>>();
    return Promise.all(
      this.session.agents.map(async (agent) => {
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
    if (this.db.outboxBytes() < budget) return undefined;
    this.roomWaiter ??= new Promise<void>((resolve) => {
      this.errors.log.warn('outbox over its budget: slowing provider output until the hub catches up', {
        bytes: this.db.outboxBytes(),
        budget,
      });
      const timer = setInterval(() => {
        if (this.db.outboxBytes() >= budget && !this.stopping) return;
        clearInterval(timer);
        this.roomWaiter = undefined;
        resolve();
      }, 25);
    });
    return this.roomWaiter;
  }

  /**
   * Attempts a previous gateway process left: ones it never started are forgotten (the hub
   * requeues them); ones it was running are stopped (their group only if its leader is still the
   * process recorded, then anything carrying the run's marker) and reported `lost`, after the
   * events they had written, so the hub retries or fails them and nothing is left unaccounted.
   */
  private async sweepPreviousRuns(): Promise<void> {
    for (const record of this.db.attempts()) {
      if (record.state === 'finished') continue;
      if (record.state !== 'running') {
        this.db.forgetAttempt(record.assignmentId, record.attempt);
        continue;
      }
      const runId = runIdOf(record);
      await stopRun(
        { ...(record.pid ? { pgid: record.pid } : {}), startTime: record.pidStart ?? null, runId },
        this.graces,
      );
      this.errors.log.warn('stopped a run left by an earlier gateway process', {
        assignment: record.assignmentId,
      });
      finishAttempt(this.db, record, {
        how: 'lost',
        message: 'the gateway restarted while this attempt ran',
      });
    }
  }
}
