/** Starts a hub: `createHub()` (store, services, HTTP app) listening on one port with its gateway WebSocket. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { serve } from '@hono/node-server';
import { GantryError } from '@gantry/protocol';
import type { Bootstrap } from './bootstrap.ts';
import { createHub, type CreateHubOptions } from './hub.ts';
import { defaultHandshakeLimits, type HandshakeLimits } from './ws/handshakes.ts';
import { gatewayUpgrades } from './ws/upgrade.ts';

export interface HubOptions extends Omit<CreateHubOptions, 'secure'> {
  host: string;
  port: number;
  /** Serve https with this certificate and key (PEM), rather than http. */
  tls?: TlsFiles;
  /** Caps on gateway sockets that have not finished hello (default 1024 in total, 64 per address). */
  handshakes?: Partial<HandshakeLimits>;
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
  let url = '';
  const hub = await createHub({ ...options, secure: options.tls !== undefined }, () => url);
  const { ctx } = hub;
  const { onUpgrade, wss, gate } = gatewayUpgrades(ctx, { ...defaultHandshakeLimits, ...options.handshakes });
  let server: Server;
  try {
    await hub.start();
    server = await listen(hub.app.fetch, options.host, options.port, options.tls);
  } catch (err) {
    await hub.stop();
    throw err;
  }
  server.on('upgrade', onUpgrade);

  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  url = `${scheme}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  ctx.log.info('hub listening', { url, store: ctx.store.kind });

  return {
    url,
    dashboardUrl: `${ctx.web.baseUrl()}/`,
    port,
    storeKind: ctx.store.kind,
    bootstrap: hub.bootstrap,
    get pendingHandshakes() {
      return gate.pending;
    },
    close: () =>
      hub.stop(async () => {
        for (const client of wss.clients) client.close(1001, 'hub shutting down');
        wss.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
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
