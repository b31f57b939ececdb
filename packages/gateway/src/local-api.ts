/**
 * The gateway's local API on loopback (DESIGN §5): `GET /api/health` for anyone on this machine,
 * `GET /api/status` with the local token from `local-api.token` (0600). Requests whose `Host` is
 * not a loopback name (DNS rebinding) or that carry a cross-site `Origin` are refused.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GantryError, httpStatus, version, type ErrorCode } from '@gantry/protocol';
import { writeSecretFile, writeSecretJson } from './files.ts';
import type { Gateway } from './gateway.ts';
import type { GantryPaths } from './paths.ts';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface LocalApi {
  url: string;
  close(): Promise<void>;
}

/** The local token, created on first use. */
export function localToken(paths: GantryPaths): string {
  if (existsSync(paths.localApiTokenFile)) return readFileSync(paths.localApiTokenFile, 'utf8').trim();
  const token = randomBytes(32).toString('base64url');
  writeSecretFile(paths.localApiTokenFile, `${token}\n`);
  return token;
}

export async function startLocalApi(gateway: Gateway, paths: GantryPaths, port: number): Promise<LocalApi> {
  const token = Buffer.from(localToken(paths));
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      const error = err instanceof GantryError ? err : new GantryError('internal', 'internal error');
      send(res, httpStatus[error.code], error.toWire());
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!loopbackHosts.has(host))
      throw new GantryError('forbidden', 'the local API answers loopback host names only');
    const origin = req.headers.origin;
    if (origin && !loopbackHosts.has(new URL(origin).hostname)) {
      throw new GantryError('forbidden', 'cross-site requests are refused');
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/api/health') {
      return send(res, 200, {
        ok: true,
        version,
        ...gateway.status(),
        running: undefined,
        providers: await gateway.providerChecks(),
      });
    }
    if (req.method === 'GET' && path === '/api/status') {
      const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
      if (given.length !== token.length || !timingSafeEqual(given, token)) {
        throw new GantryError('unauthorized', 'the local API token is missing or wrong');
      }
      return send(res, 200, { ok: true, version, pid: process.pid, ...gateway.status() });
    }
    throw new GantryError('not_found', `no route ${req.method} ${path}`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new GantryError('conflict', `port ${port} is in use: is another gateway running? (pass --port)`)
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeSecretJson(paths.localApiAddressFile, { url, pid: process.pid });
  return {
    url,
    close: async () => {
      rmSync(paths.localApiAddressFile, { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export type { ErrorCode };
