/**
 * `createHub()`: the store, the services and the HTTP app, built once and listening nowhere, so
 * tests can call `app.request()` without a port. `startHub()` (server.ts) adds the listener.
 */
import type { Hono } from 'hono';
import { silentLogger, type Logger } from '@gantry/protocol';
import { ensurePrivateFolder } from '@gantry/protocol/node';
import type { SessionLimits } from './auth/web-session.ts';
import { bootstrap, type Bootstrap } from './bootstrap.ts';
import { rechecks } from './auth/revocation.ts';
import { Bus } from './bus.ts';
import type { HubContext } from './context.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { LeaseRenewals } from './dispatch/lease-renewals.ts';
import { LeaseSweeper } from './dispatch/lease-sweeper.ts';
import { Links } from './dispatch/links.ts';
import { Deadlocks } from './domain/deadlocks.ts';
import { Stopping } from './domain/stopping.ts';
import { defaultDispatchSettings, type DispatchSettings } from './dispatch/settings.ts';
import { Activity } from './domain/activity.ts';
import { ApprovalNotices } from './domain/approval-notices.ts';
import { Approvals } from './domain/approvals.ts';
import { ChainLimits, defaultChainSettings, type ChainSettings } from './domain/chain-limits.ts';
import { Assignments } from './domain/assignments.ts';
import { ContextStore, contextLimits, type ContextLimits } from './domain/context-store.ts';
import { Devices } from './domain/devices.ts';
import { Handoffs } from './domain/handoffs.ts';
import { Mailbox } from './domain/mailbox.ts';
import { InboxWaits } from './domain/inbox-waits.ts';
import { Messages } from './domain/messages.ts';
import { Presence } from './domain/presence.ts';
import { sharePresence } from './domain/presence-sync.ts';
import { Reachability } from './domain/reachability.ts';
import { Tasks } from './domain/tasks.ts';
import { AgentTemplates } from './domain/templates.ts';
import { Work } from './domain/work.ts';
import { createApp } from './http/app.ts';
import type { HubEnv } from './http/request.ts';
import { relayPort } from './domain/gateway-port.ts';
import { GatewayRelay } from './domain/gateway-relay.ts';
import { HubInstance } from './domain/hub-instance.ts';
import { PgBus } from './pg-bus.ts';
import { isPostgresUrl, openStore } from './store/open.ts';
import { webSettings } from './web-settings.ts';

export interface CreateHubOptions {
  /** A SQLite file path or a postgres:// URL. */
  db: string;
  dataDir: string;
  settings?: Partial<DispatchSettings>;
  /** Context size limits (default: GANTRY_CONTEXT_MAX_VALUE_BYTES / _FILE_BYTES, then protocol's). */
  contextLimits?: Partial<ContextLimits>;
  /** Chains' limits: runs deep (default 6) and runs per chain (default 24). */
  chains?: Partial<ChainSettings>;
  /** Every new gateway device waits for approval, even the first for a fresh agent key. */
  requireApproval?: boolean;
  /** Where browsers reach this hub (`--public-url`): sign-in links and the Secure cookie follow it. */
  publicUrl?: string;
  /** The hub serves https itself (cookies are then Secure even without a public URL). */
  secure?: boolean;
  /** The built dashboard folder, served at `/` (the hub never imports the web package). */
  webRoot?: string;
  /** Session and sign-in link lifetimes (default: 12 h idle, 7 days, 60 s). */
  sessionLimits?: Partial<SessionLimits>;
  log?: Logger;
}

export interface Hub {
  app: Hono<HubEnv>;
  ctx: HubContext;
  bootstrap: Bootstrap;
  /** Readies the store for serving and starts the work dispatcher and the lease sweeper. */
  start(): Promise<void>;
  /**
   * Stops them, then awaits `closeTransports` (no new work comes in), waits for work in progress
   * and closes the store. Later calls return the first call's promise.
   */
  stop(closeTransports?: () => Promise<void>): Promise<void>;
}

/** `listening()` is the hub's own URL once it listens (for sign-in links without a public URL). */
export async function createHub(options: CreateHubOptions, listening: () => string = () => ''): Promise<Hub> {
  const log = options.log ?? silentLogger;
  const settings = { ...defaultDispatchSettings, ...options.settings };
  // Before the store opens: a bad --public-url is refused with nothing to undo.
  const web = webSettings(
    {
      publicUrl: options.publicUrl,
      tls: options.secure ?? false,
      webRoot: options.webRoot,
      limits: options.sessionLimits,
    },
    listening,
  );
  // The data folder holds the owner's token and, with SQLite, the JWT signing key: others must not read it.
  const warn = (message: string) => log.warn(message);
  ensurePrivateFolder(options.dataDir, warn);
  const store = await openStore(options.db, { warn });
  const boot = await bootstrap(store, options.dataDir, warn);

  // Hubs on one PostgreSQL are one system: their notices travel through it (pg-bus.ts).
  const bus = isPostgresUrl(options.db) ? new PgBus({ url: options.db, log }) : new Bus();
  if (bus instanceof PgBus)
    await bus.start().catch(async (err: unknown) => {
      await store.close();
      throw err;
    });
  const activity = new Activity(store, bus);
  const links = new Links();
  // Cancels, revokes, permission decisions and detaches reach a gateway connected to another hub of the system.
  const relay = relayPort(links, bus);
  // Attaches and rekeys (an agent key in them) reach such a gateway through the store instead.
  const keyed = new GatewayRelay(store, bus, links, log);
  keyed.start();
  // Inbox waits parked here, which a send hands its mail to in its own transaction.
  const inboxWaits = new InboxWaits(activity);
  const messages = new Messages(store, bus, activity, inboxWaits);
  const notices = new ApprovalNotices(store, activity, messages);
  const chains = new ChainLimits(store, activity, messages, { ...defaultChainSettings, ...options.chains });
  const assignments = new Assignments(store, bus, relay.port, activity, chains);
  const dispatcher = new Dispatcher(store, assignments, links, settings, log);
  const presence = new Presence(Date.now, 3 * settings.heartbeatMs);
  // Inbox waits on any hub of the system count in reachability here.
  const unsharePresence =
    bus instanceof PgBus ? sharePresence(presence, bus, bus.node, settings.heartbeatMs) : undefined;
  const mailbox = new Mailbox(store, bus, messages, presence, activity, inboxWaits);
  const tasks = new Tasks(store, activity, messages);
  const reachability = new Reachability(store, links, presence);
  const devices = new Devices(store, bus, { requireApproval: options.requireApproval ?? false, notices });
  const deadlocks = new Deadlocks(store, links, (gatewayId) => devices.bindingsOf(gatewayId));
  const ctx: HubContext = {
    store,
    bus,
    activity,
    messages,
    mailbox,
    presence,
    assignments,
    notices,
    approvals: new Approvals(store, notices),
    devices,
    tasks,
    reachability,
    deadlocks,
    stopping: new Stopping({ store, activity, assignments, messages, tasks, dispatcher }),
    handoffs: new Handoffs(store, messages, mailbox, tasks, reachability, deadlocks, chains),
    chains,
    contextEntries: new ContextStore(store, activity, contextLimits(options.contextLimits)),
    templates: new AgentTemplates(store, links, assignments, log, () => ctx.devices, relay.port, keyed),
    links,
    gateways: relay.port,
    relay: keyed,
    dispatcher,
    renewals: new LeaseRenewals(store, settings, log),
    settings,
    web,
    log,
    startedAt: Date.now(),
    hubId: boot.hubId,
    instance: new HubInstance(store, links, settings, log),
  };
  bus.on('queued', ({ agentId }) => dispatcher.queued(agentId));
  bus.on('resumed', ({ agentId }) => dispatcher.queued(agentId));
  // Notices from other hubs may have been lost: queued work is offered and tokens re-read at once.
  bus.onGap(() => {
    void rechecks(store).recheck();
    void store.assignments.queuedAgents().then(
      (agents) => agents.forEach((id) => dispatcher.queued(id)),
      (err: unknown) => log.error('catch-up read failed', { error: (err as Error).message }),
    );
  });
  const sweeper = new LeaseSweeper(store, assignments, settings, log);
  // Mentions of managed agents and tasks assigned to them run, and their results come back.
  const work = new Work({ ...ctx, limits: chains });

  let stopping: Promise<void> | undefined;
  return {
    app: createApp(ctx),
    ctx,
    bootstrap: boot,
    start: async () => {
      // No gateway is connected to a hub that starts, nor to a hub that died; those of the other
      // running hubs of the system stay connected. Held attempts get a fresh lease (and so a
      // fresh grace after it): reconnecting gateways keep their runs.
      await ctx.instance.start();
      await store.assignments.refreshAllLeases(Date.now() + settings.leaseMs);
      await work.start();
      sweeper.start();
      dispatcher.start();
    },
    stop: (closeTransports) =>
      (stopping ??= (async () => {
        sweeper.stop();
        dispatcher.stop();
        work.stop();
        await closeTransports?.();
        await work.idle();
        await work.saveCursor().catch(() => undefined); // a hub that cannot save reads those entries again
        await dispatcher.idle();
        await ctx.renewals.flush();
        await ctx.instance.stop();
        relay.stop();
        keyed.stop();
        unsharePresence?.();
        if (bus instanceof PgBus) await bus.close();
        await store.close();
      })()),
  };
}
