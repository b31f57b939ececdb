/** Starts a hub: store, HTTP API, gateway WebSocket, dispatcher and lease sweeper on one port. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { serve } from '@hono/node-server';
import { GantryError, silentLogger, type Logger } from '@gantry/protocol';
import { ensurePrivateFolder } from '@gantry/protocol/private-files';
import { bootstrap, type Bootstrap } from './bootstrap.ts';
import { Bus } from './bus.ts';
import { Activity } from './domain/activity.ts';
import { Mailbox } from './domain/mailbox.ts';
import { Messages } from './domain/messages.ts';
import { Presence } from './domain/presence.ts';
import { Handoffs } from './domain/handoffs.ts';
import { Reachability } from './domain/reachability.ts';
import { AgentTemplates } from './domain/templates.ts';
import type { HubContext } from './context.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { LeaseSweeper } from './dispatch/lease-sweeper.ts';
import { Links } from './dispatch/links.ts';
import { defaultDispatchSettings, type DispatchSettings } from './dispatch/settings.ts';
import { Approvals } from './domain/approvals.ts';
import { Devices } from './domain/devices.ts';
import { Assignments } from './domain/assignments.ts';
import { ContextStore, contextLimits, type ContextLimits } from './domain/context-store.ts';
import { Tasks } from './domain/tasks.ts';
import { Work, defaultWorkSettings } from './domain/work.ts';
import { createApp } from './http/app.ts';
import { openStore } from './store/open.ts';
import type { SessionLimits } from './auth/web-session.ts';
import { webSettings } from './web-settings.ts';
import { defaultHandshakeLimits, type HandshakeLimits } from './ws/handshakes.ts';
import { gatewayUpgrades } from './ws/upgrade.ts';

export interface HubOptions {
  host: string;
  port: number;
  /** A SQLite file path or a postgres:// URL. */
  db: string;
  dataDir: string;
  settings?: Partial<DispatchSettings>;
  /** Context size limits (default: GANTRY_CONTEXT_MAX_VALUE_BYTES / _FILE_BYTES, then protocol's). */
  contextLimits?: Partial<ContextLimits>;
  /** Agent replies in a row after which a mention dispatches nothing (default 8). */
  mentionHopLimit?: number;
  /** Every new gateway device waits for approval, even the first for a fresh agent key. */
  requireApproval?: boolean;
  /** Where browsers reach this hub (`--public-url`): sign-in links and the Secure cookie follow it. */
  publicUrl?: string;
  /** Serve https with this certificate and key (PEM), rather than http. */
  tls?: TlsFiles;
  /** The built dashboard folder, served at `/` (the hub never imports the web package). */
  webRoot?: string;
  /** Session and sign-in link lifetimes (default: 12 h idle, 7 days, 60 s). */
  sessionLimits?: Partial<SessionLimits>;
  /** Caps on gateway sockets that have not finished hello (default 1024 in total, 64 per address). */
  handshakes?: Partial<HandshakeLimits>;
  log?: Logger;
}

export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface RunningHub {
  url: string;
  /** The dashboard's address: the public URL if there is one, else where the hub listens. */
  dashboardUrl: string;
  port: number;
  storeKind: 'sqlite' | 'postgres';
  bootstrap: Bootstrap;
  /** Gateway sockets between upgrade and the end of their hello. */
  readonly pendingHandshakes: number;
  close(): Promise<void>;
}

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const log = options.log ?? silentLogger;
  const settings = { ...defaultDispatchSettings, ...options.settings };
  let url = '';
  // Before the store opens: a bad --public-url is refused with nothing to undo.
  const web = webSettings(
    {
      publicUrl: options.publicUrl,
      tls: options.tls !== undefined,
      webRoot: options.webRoot,
      limits: options.sessionLimits,
    },
    () => url,
  );
  // The data folder holds the owner's token and, with SQLite, the JWT signing key: others must not read it.
  const warn = (message: string) => log.warn(message);
  ensurePrivateFolder(options.dataDir, warn);
  const store = await openStore(options.db, { warn });
  const boot = await bootstrap(store, options.dataDir, warn);
  await store.disconnectAllGateways();
  // Held attempts get a fresh lease (and so a fresh grace after it): reconnecting gateways keep their runs.
  await store.refreshAllLeases(Date.now() + settings.leaseMs);

  const bus = new Bus();
  const activity = new Activity(store, bus);
  const assignments = new Assignments(store, bus, activity);
  const links = new Links();
  const dispatcher = new Dispatcher(store, assignments, links, settings, log);
  const messages = new Messages(store, bus, activity);
  const presence = new Presence();
  const mailbox = new Mailbox(store, bus, messages, presence);
  const tasks = new Tasks(store, activity, messages);
  const reachability = new Reachability(store, links, presence);
  const ctx: HubContext = {
    store,
    bus,
    activity,
    messages,
    mailbox,
    presence,
    assignments,
    approvals: new Approvals(store, activity),
    devices: new Devices(store, bus, { requireApproval: options.requireApproval ?? false, activity }),
    tasks,
    reachability,
    handoffs: new Handoffs(store, messages, mailbox, tasks, reachability),
    contextEntries: new ContextStore(store, activity, contextLimits(options.contextLimits)),
    templates: new AgentTemplates(store, links, assignments, log, () => ctx.devices),
    links,
    dispatcher,
    settings,
    web,
    log,
    startedAt: Date.now(),
  };
  bus.on('queued', () => dispatcher.kick());
  const sweeper = new LeaseSweeper(store, assignments, links, settings, log);
  // Mentions of managed agents and tasks assigned to them run, and their results come back.
  const work = new Work(ctx, { hopLimit: options.mentionHopLimit ?? defaultWorkSettings.hopLimit });
  await work.start();

  const app = createApp(ctx);
  const { onUpgrade, wss, gate } = gatewayUpgrades(ctx, { ...defaultHandshakeLimits, ...options.handshakes });
  const server = await listen(app.fetch, options.host, options.port, options.tls).catch(
    async (err: unknown) => {
      await store.close();
      throw err;
    },
  );
  server.on('upgrade', onUpgrade);
  sweeper.start();

  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  url = `${scheme}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  log.info('hub listening', { url, store: store.kind });

  let closing: Promise<void> | undefined;
  return {
    url,
    dashboardUrl: `${ctx.web.baseUrl()}/`,
    port,
    storeKind: store.kind,
    bootstrap: boot,
    get pendingHandshakes() {
      return gate.pending;
    },
    close: () =>
      (closing ??= (async () => {
        sweeper.stop();
        work.stop();
        for (const client of wss.clients) client.close(1001, 'hub shutting down');
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await work.idle();
        await dispatcher.idle();
        await store.close();
      })()),
  };
}

function listen(
  fetch: (req: Request) => Response | Promise<Response>,
  host: string,
  port: number,
  tls?: TlsFiles,
) {
  return new Promise<Server>((resolve, reject) => {
    const secure = tls && {
      createServer: createHttpsServer,
      serverOptions: { cert: tls.cert, key: tls.key },
    };
    let server: Server;
    try {
      server = serve({ fetch, hostname: host, port, ...secure }, () => resolve(server)) as Server;
    } catch (err) {
      // node:https checks the certificate and key as it creates the server.
      throw new GantryError('invalid_request', `cannot serve TLS: ${(err as Error).message}`);
    }
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new GantryError(
            'conflict',
            `port ${port} on ${host} is in use: is another hub running? (pass --port)`,
          ),
        );
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES') {
        reject(new GantryError('invalid_request', `cannot listen on ${host}:${port} (${err.code})`));
      } else reject(err);
    });
  });
}
