/**
 * One hub, as this gateway serves it: the connection (hello, ready), the hub's frames, heartbeats
 * with the free slots and bindings, agents the hub attaches, detaches or rekeys, tool approvals and
 * the contact fence; its offers go to `HubOffers` and its started attempts to `AttemptRunner`.
 * Everything of the hub lives here, so the daemon serves several hubs with one session each.
 */
import { hostname } from 'node:os';
import {
  maxHelloFrameBytes,
  version,
  type HeldAttempt,
  type HubFrame,
  type HubFrameOf,
  type Logger,
  type OfferedAssignment,
} from '@gantry/protocol';
import { AccessToken } from './access-token.ts';
import type { AgentBindings } from './agent-bindings.ts';
import { rekeyAgent } from './attach.ts';
import { attemptRef, AttemptRunner, type HubAttempt } from './attempt-runner.ts';
import { runIdOf, type Attempt, type AttemptHolder, type AttemptTable } from './attempts.ts';
import { ContactFence } from './contact-fence.ts';
import { osUser, type DeviceKey } from './device-key.ts';
import { HubAgents } from './hub-agents.ts';
import { HubConnection } from './hub-connection.ts';
import { HubOffers } from './hub-offers.ts';
import type { StopGraces } from './providers/process-group.ts';
import { recoverRuns } from './recover-runs.ts';
import type { Spool } from './spool/run-spool.ts';
import type { GantryPaths } from '@gantry/protocol/node';
import { PermissionDesk } from './permissions.ts';
import type { JobContext } from './run-provider.ts';
import { urlsOf, type GatewaySession } from './session-file.ts';
import type { GatewayDb } from './state/gateway-db.ts';

export interface HubSessionDeps {
  /** This hub's saved session: its URL, this gateway's token there, and the agents it serves. */
  session: GatewaySession;
  paths: Pick<GantryPaths, 'sessionFile' | 'bindingsFile'>;
  db: GatewayDb;
  /** The machine's attempts: the session holds its own among them. */
  table: AttemptTable;
  bindings: AgentBindings;
  deviceKey: DeviceKey | undefined;
  job: JobContext;
  newAttempt(offer: OfferedAssignment): Attempt;
  /** The outbox's back-pressure. */
  room(): Promise<void> | undefined;
  permissionTimeoutMs: number;
  /** Where runs are spooled so they outlive the daemon. */
  spool?: Spool;
  log: Logger;
}

/** The lease + grace a run's supervisor waits for a gone daemon when the hub has not said (DESIGN §9's defaults). */
const defaultGoneMs = 180_000;

export class HubSession {
  private readonly held: AttemptHolder<HubAttempt>;
  private readonly connection: HubConnection;
  private readonly runner: AttemptRunner;
  private readonly offers: HubOffers;
  private readonly permissions: PermissionDesk;
  private readonly agents: HubAgents;
  private readonly fence = new ContactFence((silentMs) => this.cutOff(silentMs));
  private heartbeat: NodeJS.Timeout | undefined;
  private seenOffers = 0;
  private refused: string | undefined;
  /** Why the hub holds this gateway's hello (a device approval it waits for). */
  private pending: string | undefined;
  /** The binding summary last sent to the hub, so a heartbeat carries it only when it changed. */
  private sentBindings = '';
  private lastContact: Date | undefined;
  /** Aborted on a handover: spooled runs are left going for the next daemon process. */
  private readonly leaving = new AbortController();

  constructor(private readonly deps: HubSessionDeps) {
    const { session, db, log } = deps;
    this.held = deps.table.holder<HubAttempt>();
    this.permissions = new PermissionDesk(deps.permissionTimeoutMs);
    const access = new AccessToken(session.gatewayToken, log);
    this.connection = new HubConnection({
      // Read at each connect: `gateway connect` may give the running daemon more URLs of the system.
      urls: () => urlsOf(this.session),
      hubId: () => this.session.hubId,
      db,
      log,
      credential: (url) => access.get(url),
      hello: (nonce) => this.hello(nonce),
      onPending: (frame) => {
        if (this.pending !== frame.message) log.warn('waiting for approval', { reason: frame.message });
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
        log.error('the hub refused this gateway', { reason: message });
      },
    });
    this.runner = new AttemptRunner({
      db,
      job: { ...deps.job, hubUrl: () => this.hubUrl },
      held: this.held,
      permissions: this.permissions,
      send: (frame) => this.connection.send(frame),
      deliver: (id, frame) => this.connection.deliver(id, frame),
      room: () => deps.room(),
      beforeOutput: () => this.fence.check(),
      ...(deps.spool
        ? {
            spool: {
              spool: deps.spool,
              hub: session.gatewayId,
              goneMs: () => this.fence.limit ?? defaultGoneMs,
              leave: this.leaving.signal,
            },
          }
        : {}),
      log,
    });
    this.agents = new HubAgents({
      session: () => this.session,
      paths: deps.paths,
      table: deps.table,
      bindings: deps.bindings,
      send: (frame) => this.connection.send(frame),
      report: () => this.report(),
      log,
    });
    this.offers = new HubOffers({
      session,
      table: deps.table,
      bindings: deps.bindings,
      held: this.held,
      runner: this.runner,
      send: (frame) => this.connection.send(frame),
      newAttempt: (offer) => deps.newAttempt(offer),
      log,
    });
  }

  private get session(): GatewaySession {
    return this.deps.session;
  }

  start(): void {
    this.connection.start();
  }

  /** The URL of this hub system the gateway is connected to (the first it knows while it is not). */
  get hubUrl(): string {
    return this.connection.connectedUrl ?? this.session.serverUrl;
  }

  /** Takes back (or reports lost) the runs an earlier daemon process left; before `start`. */
  async recover(lastAlive: number | undefined, graces: StopGraces): Promise<void> {
    if (!this.deps.spool) return;
    await recoverRuns({
      db: this.deps.db,
      spool: this.deps.spool,
      lastAlive,
      held: this.held,
      runner: this.runner,
      newAttempt: (offer) => this.deps.newAttempt(offer),
      graces,
      log: this.deps.log,
    });
  }

  /** Says hello again, e.g. with an agent `gateway connect` added while the daemon runs. */
  reconnect(): void {
    this.refused = undefined;
    this.connection.reconnect();
  }

  /** Resolves true once connected to the hub, false if that takes longer than `ms`. */
  async whenConnected(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.connection.connected && !this.refused && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.connection.connected;
  }

  /**
   * Stops this hub's runs (reported as stopped; the machine's table is closed already, so no offer
   * is taken), flushes the outbox briefly and disconnects.
   */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    this.fence.stop();
    for (const run of this.held.list()) {
      if (run.state === 'running') this.runner.halt(run, 'stopping');
      else this.runner.drop(run, 'the gateway was stopped before this attempt started');
    }
    this.connection.pump();
    await Promise.all(this.held.list().map((run) => run.done));
    const until = Date.now() + 3000;
    while (this.connection.connected && this.deps.db.outboxDepth() > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await this.connection.stop();
  }

  /**
   * A handover (`gateway restart`): spooled runs go on for the next daemon process, which takes
   * them back (a protocol over stdio too: its stdin is the supervisor's); a run not given to a
   * supervisor is stopped and handed back, as are attempts not yet started.
   */
  async handOver(): Promise<void> {
    clearInterval(this.heartbeat);
    this.fence.stop();
    this.leaving.abort();
    for (const run of this.held.list()) {
      if (run.state === 'running' && this.runner.spooled(run)) this.runner.leave(run);
      else if (run.state === 'running') this.runner.halt(run, 'stopping');
      else this.runner.drop(run, 'the gateway was stopped before this attempt started');
    }
    this.connection.pump();
    await Promise.all(this.held.list().map((run) => run.done));
    await this.connection.stop();
  }

  status() {
    return {
      connected: this.connection.connected,
      refused: this.refused ?? null,
      pending: this.pending ?? null,
      lastContactAt: this.lastContact?.toISOString() ?? null,
      serverUrl: this.session.serverUrl,
      /** The URL of the system this session is connected to now (null while it is not). */
      connectedUrl: this.connection.connectedUrl ?? null,
      urls: urlsOf(this.session),
      gateway: { id: this.session.gatewayId, name: this.session.gatewayName },
    };
  }

  /** Tells the hub the free slots now, and the bindings when they changed (the heartbeat). */
  report(): void {
    this.fence.check();
    const bindings = this.agents.bindingSummary();
    const changed = JSON.stringify(bindings) !== this.sentBindings;
    const sent = this.connection.send({
      t: 'heartbeat',
      ...this.agents.capacity(),
      seenOffers: this.seenOffers,
      ...(changed ? { bindings } : {}),
    });
    if (sent && changed) this.sentBindings = JSON.stringify(bindings);
    // The hub's pong is contact too, so a gateway with quiet runs is not cut off.
    this.connection.ping();
  }

  // ---- connecting ------------------------------------------------------------------------------

  private hello(nonce: string) {
    const held: HeldAttempt[] = this.held.list().map((run) => ({ ...attemptRef(run), state: run.state }));
    for (const record of this.deps.db.attempts()) {
      if (record.state === 'finished')
        held.push({ assignmentId: record.assignmentId, attempt: record.attempt, state: 'finished' });
    }
    this.seenOffers = 0;
    const bindings = this.agents.bindingSummary();
    this.sentBindings = JSON.stringify(bindings);
    const frame = {
      t: 'hello' as const,
      token: this.session.gatewayToken,
      version,
      hostname: hostname(),
      osUser: osUser(),
      ...(this.deps.deviceKey ? { signature: this.deps.deviceKey.sign(nonce) } : {}),
      bindings,
      ...this.agents.capacity(),
      held,
    };
    // The hub reads at most 64 KiB before it serves a hello (room kept for the access token that
    // replaces the gateway token): many bindings go with the first heartbeat instead.
    if (Buffer.byteLength(JSON.stringify(frame)) <= maxHelloFrameBytes - 4096) return frame;
    this.sentBindings = '';
    const { bindings: _later, ...small } = frame;
    return small;
  }

  /** Connected: heartbeats start, and what each held attempt said so far is said again. */
  private ready(frame: HubFrameOf<'hello_ok'>): void {
    this.lastContact = new Date();
    this.fence.configure(frame);
    this.refused = undefined;
    this.pending = undefined;
    this.deps.log.info('connected to hub', {
      url: this.connection.connectedUrl ?? this.session.serverUrl,
      agents: frame.agents.length,
    });
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.report(), frame.heartbeatMs);
    this.heartbeat.unref();
    this.offers.repeatAnswers();
  }

  private receive(frame: HubFrame): void {
    this.lastContact = new Date();
    switch (frame.t) {
      case 'offer':
        this.seenOffers = frame.n;
        return this.offers.offer(frame.assignment, frame.offerId);
      case 'claimed':
        return; // `starting` already follows `accept`; the hub answers it with `start` or `revoke`
      case 'start':
        return this.offers.start(frame);
      case 'cancel':
        return this.offers.cancel(frame);
      case 'revoke':
        return this.offers.revoke(frame);
      case 'events_ack':
        return this.deps.db.ackEvents(frame.assignmentId, frame.attempt, frame.seq);
      case 'result_ack':
        this.deps.db.ackResult(frame.assignmentId, frame.attempt);
        // The hub has the result: the run's spool is no longer needed.
        return this.deps.spool?.remove(runIdOf(frame));
      case 'permission':
        return this.permissions.decide(frame);
      case 'attach':
        return this.agents.attach(frame);
      case 'detach':
        return this.agents.detach(frame.agentId);
      case 'rekey':
        if (rekeyAgent(this.agents.files, frame.agentId, frame.key))
          this.deps.log.info('the hub rotated an agent key', { agent: frame.agentId });
        return;
      case 'error':
        this.deps.log.warn('the hub reported an error', { code: frame.code, message: frame.message });
        return;
      default:
        return;
    }
  }

  /**
   * Out of contact with the hub past lease + grace: the hub has given up this gateway's attempts
   * and may run them again elsewhere, so they stop now, through the same path as a cancel, and are
   * reported `lost`. Local runs and other hubs' attempts are no concern of this hub's and go on.
   */
  private cutOff(silentMs: number): void {
    const held = this.held.list();
    if (held.length === 0) return;
    this.deps.log.warn('out of contact with the hub past lease and grace: stopping its runs', {
      silentS: Math.round(silentMs / 1000),
      runs: held.length,
    });
    for (const run of held) {
      if (run.state === 'running') this.runner.halt(run, 'cut_off');
      else this.runner.drop(run, 'the gateway was out of contact with the hub before this attempt started');
    }
    this.connection.pump();
  }
}
