/**
 * The gateway daemon: takes offers from the hub within its capacity, runs each attempt through
 * its agent's provider in the bound workdir, and reports events and the result through the outbox.
 * The attempt lifecycle on this side: offer -> accept -> (claimed) -> starting -> (start) -> run ->
 * result; a slot is held from accept until the run ends.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  maxHelloFrameBytes,
  version,
  type HeldAttempt,
  type HubFrame,
  type HubFrameOf,
  type Logger,
  type OfferedAssignment,
  type EmitEvent,
} from '@gantry/protocol';
import { ensurePrivateFolder } from '@gantry/protocol/private-files';
import { AccessToken } from './access-token.ts';
import { AgentBindings } from './agent-bindings.ts';
import { finishAttempt, type Ending } from './attempt-runner.ts';
import { AttemptTable, runIdOf, type Attempt, type AttemptHolder } from './attempts.ts';
import { loadDeviceKey, osUser, type DeviceKey } from './device-key.ts';
import { attachAgent, detachAgent, rekeyAgent } from './attach.ts';
import { ContactFence } from './contact-fence.ts';
import { EventSink } from './event-sink.ts';
import { runProvider } from './run-provider.ts';
import { HubConnection } from './hub-connection.ts';
import { newAttempt, type Placement } from './new-attempt.ts';
import type { GantryPaths } from './paths.ts';
import { defaultStopGraces, processStartTime, stopRun, type StopGraces } from './providers/process-group.ts';
import type { Provider } from './providers/provider.ts';
import { LocalRuns } from './local-runs.ts';
import { defaultPermissionTimeoutMs, PermissionDesk, policyOf } from './permissions.ts';
import type { GatewaySession } from './session-file.ts';
import { GatewayDb } from './state/gateway-db.ts';
import { acquirePidLock, type PidLock } from './state/pid-lock.ts';
import type { StopReason } from './stop-reasons.ts';

interface Run extends Attempt {
  /** The hub's offer this run answers (the latest, when the attempt was offered again). */
  offerId?: string;
  /** Whether `askToStart` is already waiting for this run's workdir. */
  waiting?: boolean;
  /** The hub's reason for a revoke, for the result. */
  revokedFor?: string;
  done?: Promise<void>;
}

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
  state: Run['state'];
  workdir: string;
}

export class Gateway {
  readonly db: GatewayDb;
  private readonly lock: PidLock;
  private readonly table: AttemptTable;
  private readonly runs: AttemptHolder<Run>;
  private readonly connection: HubConnection;
  private seenOffers = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private refused: string | undefined;
  /** Why the hub holds this gateway's hello (a device approval it waits for). */
  private pending: string | undefined;
  private readonly deviceKey: DeviceKey | undefined;
  /** The binding summary last sent to the hub, so a heartbeat carries it only when it changed. */
  private sentBindings = '';
  private lastContact: Date | undefined;
  private roomWaiter: Promise<void> | undefined;
  private readonly bindings: AgentBindings;
  private readonly permissions: PermissionDesk;
  readonly localRuns: LocalRuns;
  private readonly fence = new ContactFence((silentMs) => this.cutOff(silentMs));

  constructor(private readonly options: GatewayOptions) {
    this.table = new AttemptTable(options.concurrency ?? 4);
    this.runs = this.table.holder<Run>();
    this.permissions = new PermissionDesk(options.permissionTimeoutMs ?? defaultPermissionTimeoutMs);
    this.bindings = new AgentBindings(
      options.paths.bindingsFile,
      options.session,
      this.graces,
      options.paths.data,
      options.log,
    );
    // Both hold credentials (session, device key, run tokens, outbox): readable by this user only.
    const warn = (message: string) => options.log.warn(message);
    ensurePrivateFolder(options.paths.config, warn);
    ensurePrivateFolder(options.paths.data, warn);
    // Made here when missing: a copied session without its key is then refused by the hub.
    this.deviceKey = loadDeviceKey(options.paths.data, { create: true });
    this.lock = acquirePidLock(join(options.paths.data, 'gateway.pid'));
    try {
      this.db = new GatewayDb(options.paths.gatewayDb, warn);
    } catch (err) {
      this.lock.release();
      throw err;
    }
    this.localRuns = new LocalRuns({
      table: this.table,
      job: this.jobContext,
      session: () => this.session,
      newAttempt: (offer, placement) => this.newAttempt(offer, placement),
      onSlotsChanged: () => this.sendHeartbeat(),
    });
    const access = new AccessToken(options.session.serverUrl, options.session.gatewayToken, options.log);
    this.connection = new HubConnection({
      serverUrl: options.session.serverUrl,
      db: this.db,
      log: options.log,
      credential: () => access.get(),
      hello: (nonce) => this.hello(nonce),
      onPending: (frame) => {
        if (this.pending !== frame.message)
          options.log.warn('waiting for approval', { reason: frame.message });
        this.pending = frame.message;
      },
      onReady: (frame) => this.ready(frame),
      onFrame: (frame) => this.receive(frame),
      onContact: () => this.fence.contact(),
      onDown: () => {
        clearInterval(this.heartbeat);
        this.fence.check();
      },
      onRefused: (message) => {
        this.refused = message;
        options.log.error('the hub refused this gateway', { reason: message });
      },
    });
  }

  private get jobContext() {
    return {
      db: this.db,
      session: this.session,
      runDir: this.options.paths.runDir,
      worktreeDir: this.options.paths.worktreeDir,
    };
  }

  private get graces(): StopGraces {
    return this.options.graces ?? defaultStopGraces;
  }

  get session(): GatewaySession {
    return this.options.session;
  }

  async start(): Promise<void> {
    await this.sweepPreviousRuns();
    this.bindings.watch(() => this.sendHeartbeat());
    this.connection.start();
  }

  private sendHeartbeat(): void {
    this.fence.check();
    const bindings = this.bindingSummary();
    const changed = JSON.stringify(bindings) !== this.sentBindings;
    const sent = this.connection.send({
      t: 'heartbeat',
      ...this.capacity(),
      seenOffers: this.seenOffers,
      ...(changed ? { bindings } : {}),
    });
    if (sent && changed) this.sentBindings = JSON.stringify(bindings);
    // The hub's pong is contact too, so a gateway with quiet runs is not cut off.
    this.connection.ping();
  }

  /** What each served agent is bound to, mirrored to the hub (which audits changes). */
  private bindingSummary() {
    return this.session.agents.map((a) => {
      const binding = this.bindings.of(a.id);
      return {
        agentId: a.id,
        provider: binding.provider,
        workdir: binding.workdir,
        isolation: binding.settings.isolation ?? null,
      };
    });
  }

  /** Resolves true once connected to the hub, false if that takes longer than `ms`. */
  async whenConnected(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.connection.connected && !this.refused && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.connection.connected;
  }

  /** Stops taking work, stops what runs (reported as stopped), flushes the outbox briefly, disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.table.close();
    clearInterval(this.heartbeat);
    this.fence.stop();
    this.bindings.close();
    for (const run of this.runs.list()) {
      if (run.state === 'running') this.halt(run, 'stopping');
      else this.dropUnstarted(run, 'the gateway was stopped before this attempt started');
    }
    this.connection.pump();
    await Promise.all([...this.runs.list().map((run) => run.done), this.localRuns.stop()]);
    const until = Date.now() + 3000;
    while (this.connection.connected && this.db.outboxDepth() > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await this.connection.stop();
    this.close();
  }

  /** Releases the database and the lock without a run (for a daemon that failed to start). */
  close(): void {
    this.db.close();
    this.lock.release();
  }

  status() {
    return {
      connected: this.connection.connected,
      refused: this.refused ?? null,
      pending: this.pending ?? null,
      lastContactAt: this.lastContact?.toISOString() ?? null,
      serverUrl: this.session.serverUrl,
      gateway: { id: this.session.gatewayId, name: this.session.gatewayName },
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

  // ---- hub frames ------------------------------------------------------------------------------

  private hello(nonce: string) {
    const held: HeldAttempt[] = this.runs.list().map((run) => ({
      assignmentId: run.offer.id,
      attempt: run.offer.attempt,
      state: run.state,
    }));
    for (const record of this.db.attempts()) {
      if (record.state === 'finished')
        held.push({ assignmentId: record.assignmentId, attempt: record.attempt, state: 'finished' });
    }
    this.seenOffers = 0;
    const bindings = this.bindingSummary();
    this.sentBindings = JSON.stringify(bindings);
    const frame = {
      t: 'hello' as const,
      token: this.session.gatewayToken,
      version,
      hostname: hostname(),
      osUser: osUser(),
      ...(this.deviceKey ? { signature: this.deviceKey.sign(nonce) } : {}),
      bindings,
      ...this.capacity(),
      held,
    };
    // The hub reads at most 64 KiB before it serves a hello (room kept for the access token that
    // replaces the gateway token): many bindings go with the first heartbeat instead.
    if (Buffer.byteLength(JSON.stringify(frame)) <= maxHelloFrameBytes - 4096) return frame;
    this.sentBindings = '';
    const { bindings: _later, ...small } = frame;
    return small;
  }

  private ready(frame: HubFrameOf<'hello_ok'>): void {
    this.lastContact = new Date();
    this.fence.configure(frame);
    this.refused = undefined;
    this.pending = undefined;
    this.options.log.info('connected to hub', { url: this.session.serverUrl, agents: frame.agents.length });
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.sendHeartbeat(), frame.heartbeatMs);
    this.heartbeat.unref();
    for (const run of this.runs.list()) {
      if (run.state === 'accepted') {
        this.connection.send({ t: 'accept', ...offerRef(run) });
        void this.askToStart(run);
      }
      if (run.state === 'starting') this.connection.send({ t: 'starting', ...offerRef(run) });
      if (run.state === 'running') this.connection.send({ t: 'running', ...attemptRef(run) });
    }
  }

  private receive(frame: HubFrame): void {
    this.lastContact = new Date();
    switch (frame.t) {
      case 'offer':
        this.seenOffers = frame.n;
        return this.offer(frame.assignment, frame.offerId);
      case 'claimed':
        return; // `starting` already follows `accept`; the hub answers it with `start` or `revoke`
      case 'start':
        return this.withRun(frame, 'starting', (run) => this.launch(run));
      case 'cancel':
        return this.withRun(frame, undefined, (run) => this.halt(run, frame.reason));
      case 'revoke':
        return this.withRun(frame, undefined, (run) => this.revoked(run, frame));
      case 'events_ack':
        return this.db.ackEvents(frame.assignmentId, frame.attempt, frame.seq);
      case 'result_ack':
        return this.db.ackResult(frame.assignmentId, frame.attempt);
      case 'permission':
        return this.permissions.decide(frame);
      case 'attach':
        return this.attach(frame);
      case 'detach':
        return this.detach(frame.agentId);
      case 'rekey':
        if (rekeyAgent(this.agentFiles, frame.agentId, frame.key))
          this.options.log.info('the hub rotated an agent key', { agent: frame.agentId });
        return;
      case 'error':
        this.options.log.warn('the hub reported an error', { code: frame.code, message: frame.message });
        return;
      default:
        return;
    }
  }

  /** An agent the hub added for this gateway: saved (0600) and served from now on. */
  private attach(frame: HubFrameOf<'attach'>): void {
    let answer: ReturnType<typeof attachAgent>;
    try {
      answer = attachAgent(this.agentFiles, frame);
    } catch (err) {
      answer = { ok: false, error: (err as Error).message };
    }
    if (answer.ok) this.bindings.reload();
    this.options.log.info(answer.ok ? 'the hub added an agent' : 'could not add an agent', {
      agent: frame.agent.name,
      provider: frame.binding.provider,
      ...(answer.ok ? {} : { error: answer.error }),
    });
    this.connection.send({ t: 'attached', requestId: frame.requestId, agentId: frame.agent.id, ...answer });
    if (answer.ok) this.sendHeartbeat();
  }

  /** The hub removed or detached an agent: its key and binding are forgotten; it gets no more work. */
  private detach(agentId: string): void {
    const name = this.session.agents.find((a) => a.id === agentId)?.name ?? agentId;
    if (detachAgent(this.agentFiles, agentId)) {
      this.bindings.reload();
      this.options.log.info('the hub detached an agent', { agent: name });
      this.sendHeartbeat();
    }
  }

  private get agentFiles() {
    return {
      session: this.session,
      sessionFile: this.options.paths.sessionFile,
      bindingsFile: this.options.paths.bindingsFile,
    };
  }

  private withRun(
    ref: { assignmentId: string; attempt: number },
    state: Run['state'] | undefined,
    fn: (run: Run) => void,
  ): void {
    const run = this.runs.get(runIdOf(ref));
    if (run && (state === undefined || run.state === state)) fn(run);
  }

  private offer(offer: OfferedAssignment, offerId: string | undefined): void {
    const ref = { assignmentId: offer.id, attempt: offer.attempt, ...(offerId ? { offerId } : {}) };
    const reject = (reason: string) => void this.connection.send({ t: 'reject', ...ref, reason });
    if (this.stopping) return reject('the gateway is stopping');
    const held = this.runs.get(runIdOf(ref));
    if (held?.reason) return reject('this gateway is stopping that attempt');
    if (held) return this.reoffered(held, offerId);
    if (!this.session.agents.some((a) => a.id === offer.agentId))
      return reject('this gateway does not serve that agent');
    if (this.agentSlots(offer.agentId) <= 0) return reject('no free slot');
    const run: Run = { ...this.newAttempt(offer), ...(offerId ? { offerId } : {}) };
    this.runs.add(run);
    this.record(run);
    this.connection.send({ t: 'accept', ...ref });
    void this.askToStart(run);
  }

  /**
   * An attempt this gateway holds is offered again (its earlier offer lapsed while the answers were
   * on their way): it stays one run, now under the new offer, and its answers so far are repeated
   * under it so the hub's view of the attempt catches up. Never a second run.
   */
  private reoffered(run: Run, offerId: string | undefined): void {
    if (offerId) run.offerId = offerId;
    this.connection.send({ t: 'accept', ...offerRef(run) });
    if (run.state !== 'accepted') this.connection.send({ t: 'starting', ...offerRef(run) });
    if (run.state === 'running') this.connection.send({ t: 'running', ...attemptRef(run) });
  }

  /** A revoke naming an earlier offer than the one this run holds is stale: the run goes on. */
  private revoked(run: Run, frame: HubFrameOf<'revoke'>): void {
    const log = { assignment: frame.assignmentId, attempt: frame.attempt, reason: frame.reason };
    if (frame.offerId && run.offerId && frame.offerId !== run.offerId) {
      this.options.log.debug('ignored a revoke of an earlier offer', { ...log, offer: frame.offerId });
      return;
    }
    this.options.log.warn('the hub revoked an attempt', log);
    run.revokedFor ??= frame.reason;
    this.halt(run, 'revoked');
  }

  // ---- runs ------------------------------------------------------------------------------------

  /**
   * Right behind `accept` (no round trip for `claimed`: the hub handles a connection's frames in
   * order, so `starting` succeeds only if the claim did), once no other run uses the workdir
   * (agents without a binding share the workspace root; the hub only counts per agent): ask the
   * hub to start. The provider is spawned only on its `start`.
   */
  private async askToStart(run: Run): Promise<void> {
    if (run.waiting) return;
    run.waiting = true;
    if (this.table.waitsForWorkdir(run) && !(await this.table.untilWorkdirFree(run))) return;
    run.state = 'starting';
    this.record(run);
    this.connection.send({ t: 'starting', ...offerRef(run) });
  }

  private newAttempt(offer: OfferedAssignment, placement?: Placement): Attempt {
    return newAttempt(this.bindings, this.options.providerArgs ?? [], offer, placement);
  }

  private launch(run: Run): void {
    run.state = 'running';
    this.record(run);
    run.done = this.execute(run).catch((err: unknown) => {
      this.options.log.error('run failed unexpectedly', {
        assignment: run.offer.id,
        error: (err as Error).message,
      });
    });
  }

  private async execute(run: Run): Promise<void> {
    const { offer } = run;
    const ref = { assignmentId: offer.id, attempt: offer.attempt };
    const sink = new EventSink(this.db, offer.id, offer.attempt, (id, frame) =>
      this.connection.deliver(id, frame),
    );
    const timer = setTimeout(() => this.halt(run, 'timed_out'), offer.timeoutMs);
    this.connection.send({ t: 'running', ...ref });
    const emit: EmitEvent = (type, data) => {
      this.fence.check(); // output read on waking from a freeze comes after the cut-off, not before
      sink.emit(type, data);
    };
    const outcome = await runProvider(run, this.jobContext, {
      signal: run.abort.signal,
      emit,
      requestPermission: (request) =>
        this.permissions.ask(ref, policyOf(run.settings), emit, request, run.abort.signal),
      room: () => this.outboxRoom(),
      onSpawn: (pid) => this.record(run, pid),
    });
    clearTimeout(timer);
    sink.flush();
    this.finish(run, {
      how: 'ran',
      outcome,
      lastSeq: sink.lastSeq,
      ...(run.reason ? { reason: run.reason } : {}),
      ...(run.revokedFor ? { detail: run.revokedFor } : {}),
    });
  }

  /** Lets the attempt go and sends its result (through the outbox). */
  private finish(run: Run, ending: Ending): void {
    this.runs.remove(run);
    const { id, frame } = finishAttempt(this.db, refOf(run), ending);
    this.connection.deliver(id, frame);
  }

  /**
   * During a hub outage the outbox grows on disk up to its budget; past it, providers wait here
   * (their output unread, so they slow down) until acks make room. Nothing is dropped.
   */
  private outboxRoom(): Promise<void> | undefined {
    const budget = this.options.outboxMaxBytes ?? defaultOutboxMaxBytes;
    if (this.db.outboxBytes() < budget) return undefined;
    this.roomWaiter ??= new Promise<void>((resolve) => {
      this.options.log.warn('outbox over its budget: slowing provider output until the hub catches up', {
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

  /** Stops a run: before it spawned, it is dropped (or reported cancelled); after, its process group is stopped. */
  private halt(run: Run, reason: StopReason): void {
    if (run.state !== 'running') {
      if (reason === 'cancelled' || reason === 'timed_out')
        return this.finish(run, { how: 'halted', reason });
      this.runs.remove(run);
      this.db.forgetAttempt(run.offer.id, run.offer.attempt);
      return;
    }
    run.reason ??= reason;
    run.abort.abort();
  }

  private record(run: Run, pid: number | null = null): void {
    this.db.recordAttempt({
      assignmentId: run.offer.id,
      attempt: run.offer.attempt,
      agentId: run.offer.agentId,
      state: run.state,
      pid,
      pidStart: pid === null ? null : (processStartTime(pid) ?? null),
    });
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
      this.options.log.warn('stopped a run left by an earlier gateway process', {
        assignment: record.assignmentId,
      });
      finishAttempt(this.db, record, {
        how: 'lost',
        message: 'the gateway restarted while this attempt ran',
      });
    }
  }

  /**
   * Out of contact with the hub past lease + grace: the hub has given up this gateway's attempts
   * and may run them again elsewhere, so they stop now, through the same path as a cancel, and are
   * reported `lost`. Local runs are the hub's concern in no way and go on.
   */
  private cutOff(silentMs: number): void {
    const held = this.runs.list();
    if (held.length === 0) return;
    this.options.log.warn('out of contact with the hub past lease and grace: stopping its runs', {
      silentS: Math.round(silentMs / 1000),
      runs: held.length,
    });
    for (const run of held) {
      if (run.state === 'running') this.halt(run, 'cut_off');
      else this.dropUnstarted(run, 'the gateway was out of contact with the hub before this attempt started');
    }
    this.connection.pump();
  }

  /**
   * A run never spawned: an accepted offer goes back to the hub's queue by itself; an attempt the
   * hub may have heard `starting` for is reported lost now rather than after its lease.
   */
  private dropUnstarted(run: Run, message: string): void {
    if (run.state === 'starting') return this.finish(run, { how: 'lost', message });
    this.runs.remove(run);
    this.db.forgetAttempt(run.offer.id, run.offer.attempt);
  }

  // ---- capacity and bindings -------------------------------------------------------------------

  private capacity() {
    return this.table.capacity(
      this.session.agents.map((a) => {
        const binding = this.bindings.of(a.id);
        return { agentId: a.id, provider: binding.provider, parallel: this.bindings.parallelOf(binding) };
      }),
    );
  }

  private agentSlots(agentId: string): number {
    return this.table.agentSlots(agentId, this.bindings.parallelOf(this.bindings.of(agentId)));
  }
}

/** The attempt a run is, with its agent, for its record and result. */
function refOf(run: Run) {
  return { ...attemptRef(run), agentId: run.offer.agentId };
}

/** The attempt a run is, for frames that name no offer. */
function attemptRef(run: Run) {
  return { assignmentId: run.offer.id, attempt: run.offer.attempt };
}

/** The attempt and the offer it holds, for the answers to an offer. */
function offerRef(run: Run) {
  return { ...attemptRef(run), ...(run.offerId ? { offerId: run.offerId } : {}) };
}
