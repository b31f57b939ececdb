/**
 * The gateway's local API on 127.0.0.1 (DESIGN §5). `GET /api/health` answers anyone on this
 * machine with `{ ok }` alone, and with the details (version, hub connection, agents, providers)
 * to a caller with the local token from `local-api.token` (0600), which everything else needs: `GET /api/status`,
 * `POST /api/agent/run` (runs an agent here without the hub and returns the result),
 * `GET /api/agent/runs/:id` (the run history), `GET /api/agent/ws` (runs and streams events),
 * `POST /api/stop` (`gantry gateway stop|restart`: stop, drain or hand over, then exit), and
 * the pass-through folder routes under `/api/local/` (local-agents.ts).
 * Requests whose `Host` is not a loopback name (DNS rebinding), that carry a cross-site `Origin`,
 * or whose body is not JSON (CSRF through forms) are refused. No frame, body or broken socket from
 * a client takes the daemon down: every socket and server has an error listener.
 */
import { timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import * as z from 'zod';
import {
  GantryError,
  httpStatus,
  localRunSchema,
  localWsClientFrame,
  parseJson,
  parseOrThrow,
  silentLogger,
  version,
  type Logger,
  type LocalWsServerFrame,
} from '@gantry/protocol';
import { localToken, writeSecretJson, type GantryPaths } from '@gantry/protocol/node';
import type { Gateway } from './daemon.ts';
import { LocalAgents, localAgentRoute } from './local-agents.ts';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const maxBodyBytes = 1024 * 1024;

export interface LocalApi {
  url: string;
  close(): Promise<void>;
}

/** `POST /api/stop`: how `gantry gateway stop|restart` asks the daemon to end. */
export const stopRequestSchema = z.object({
  /** stop: stop runs and hand them back; drain: let them finish first; handover: leave them running. */
  mode: z.enum(['stop', 'drain', 'handover']),
  /** How long a drain may take before what is left is stopped (no limit when absent). */
  timeoutMs: z.number().int().nonnegative().optional(),
});
export type StopRequest = z.infer<typeof stopRequestSchema>;

export async function startLocalApi(
  gateway: Gateway,
  paths: GantryPaths,
  port: number,
  log: Logger = silentLogger,
  onStop: (request: StopRequest) => void = () => undefined,
): Promise<LocalApi> {
  const token = Buffer.from(localToken(paths));
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodyBytes });
  wss.on('error', (err) => log.warn('local API WebSocket server error', { error: err.message }));
  const folders = new LocalAgents(
    paths,
    () => gateway.session,
    () => gateway.hubUrl,
  );

  /** Whether the request carries the local token. */
  function hasToken(req: IncomingMessage): boolean {
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    return given.length === token.length && timingSafeEqual(given, token);
  }

  /** The checks every request passes: a loopback Host, no cross-site Origin, and (but for health) the token. */
  function admit(req: IncomingMessage, needsToken: boolean): void {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!loopbackHosts.has(host))
      throw new GantryError('forbidden', 'the local API answers loopback host names only');
    const origin = req.headers.origin;
    if (origin !== undefined && !loopbackOrigin(origin))
      throw new GantryError('forbidden', 'cross-site requests are refused');
    if (needsToken && !hasToken(req)) {
      throw new GantryError('unauthorized', 'the local API token (local-api.token) is missing or wrong');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = `${req.method} ${path}`;
    admit(req, route !== 'GET /api/health');
    if (route === 'GET /api/health') {
      // Anyone on this machine may ask whether it is up; what it runs is for its own user.
      if (!hasToken(req)) return send(res, 200, { ok: true });
      const { running: _running, ...status } = gateway.status();
      return send(res, 200, { ok: true, version, ...status, providers: await gateway.providerChecks() });
    }
    if (route === 'GET /api/status')
      return send(res, 200, {
        ok: true,
        version,
        ...gateway.status(),
        providers: await gateway.providerChecks(),
      });
    if (route === 'POST /api/stop') {
      const request = parseOrThrow(stopRequestSchema, await readJson(req), 'body');
      send(res, 202, { ok: true, pid: process.pid, mode: request.mode });
      return onStop(request);
    }
    if (route === 'POST /api/agent/run') {
      const input = parseOrThrow(localRunSchema, await readJson(req), 'body');
      const abort = new AbortController();
      res.once('close', () => !res.writableFinished && abort.abort()); // the caller gave up: stop the run
      return send(res, 200, await gateway.localRuns.run(input, { signal: abort.signal }));
    }
    const run = /^GET \/api\/agent\/runs\/([\w-]+)$/.exec(route);
    if (run) {
      const record = gateway.localRuns.get(run[1] ?? '');
      if (!record) throw new GantryError('not_found', `no local run ${run[1]}`);
      return send(res, 200, record);
    }
    if (await localAgentRoute(folders, req, res, readJson, send)) return;
    throw new GantryError('not_found', `no route ${route}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const error = err instanceof GantryError ? err : new GantryError('internal', 'internal error');
      if (!res.headersSent) send(res, httpStatus[error.code], error.toWire());
      else res.destroy();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands over an upgraded socket with no error listener: a peer's reset must not crash the daemon.
    socket.on('error', (err) => log.debug('local API socket error', { error: err.message }));
    try {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/api/agent/ws') {
        throw new GantryError('not_found', 'no WebSocket here');
      }
      admit(req, true);
    } catch (err) {
      const error = err as GantryError;
      const body = JSON.stringify(error.toWire());
      socket.end(
        `HTTP/1.1 ${httpStatus[error.code]} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => streamRun(ws, gateway, log));
  });

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
      for (const client of wss.clients) client.close(1001, 'gateway stopping');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `GET /api/agent/ws`: one `run` frame in; `started`, each `event`, then `result` out. Closing cancels. */
function streamRun(ws: WebSocket, gateway: Gateway, log: Logger): void {
  const send = (frame: LocalWsServerFrame) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(frame));
  const abort = new AbortController();
  let started = false;
  ws.on('close', () => abort.abort());
  // Invalid UTF-8 or a frame over the limit: ws closes this socket (1007, 1009); the daemon goes on.
  ws.on('error', (err) => log.warn('local API WebSocket closed on a bad frame', { error: err.message }));
  ws.on('message', (data) => {
    let frame;
    try {
      frame = parseOrThrow(localWsClientFrame, parseJson(String(data), 'the frame'), 'frame');
    } catch (err) {
      const error = err instanceof GantryError ? err : new GantryError('invalid_request', 'frames are JSON');
      return send({ t: 'error', code: error.code, message: error.message });
    }
    if (frame.t === 'cancel') return abort.abort();
    if (started) return send({ t: 'error', code: 'conflict', message: 'one run per connection' });
    started = true;
    const { t: _t, ...input } = frame;
    gateway.localRuns
      .run(input, {
        signal: abort.signal,
        onStart: (id, workdir) => send({ t: 'started', id, workdir }),
        onEvent: (event) => send({ t: 'event', event }),
      })
      .then((run) => send({ t: 'result', run }))
      .catch((err: unknown) => {
        const error = err instanceof GantryError ? err : new GantryError('internal', 'internal error');
        send({ t: 'error', code: error.code, message: error.message });
      })
      .finally(() => ws.close(1000));
  });
}

function loopbackOrigin(origin: string): boolean {
  try {
    return loopbackHosts.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    throw new GantryError('invalid_request', 'the body must be JSON (Content-Type: application/json)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes)
      throw new GantryError('payload_too_large', `the body is larger than ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  return parseJson(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
