/**
 * A gateway's WebSocket (`ws`) carrying a `GatewaySession`: messages in, frames out, closes and
 * pings. Everything the hub decides about the connection is the session's.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { HubContext } from '../context.ts';
import { GatewaySession } from './gateway-session.ts';
import { noHandshake, type SocketHandshake } from './handshakes.ts';

export function handleGatewaySocket(
  ws: WebSocket,
  ctx: HubContext,
  handshake: SocketHandshake = noHandshake,
): GatewaySession {
  const session = new GatewaySession(
    {
      send: (text) => {
        if (ws.readyState === ws.OPEN) ws.send(text);
      },
      close: (code, reason) => ws.close(code, reason),
      ping: (timeoutMs) => pingSocket(ws, timeoutMs),
    },
    ctx,
    handshake,
  );
  ws.on('message', (data, isBinary) => session.receive(data, isBinary));
  ws.on('close', () => session.closed());
  ws.on('error', (err) => ctx.log.warn('gateway socket error', { error: err.message }));
  return session;
}

/**
 * One WebSocket ping with its own payload (concurrent pings each wait for their own pong); the
 * gateway's `ws` client answers pings by itself, so this measures the socket and the event loop
 * of the gateway, not any agent run.
 */
function pingSocket(ws: WebSocket, timeoutMs: number): Promise<number | undefined> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve(undefined);
  const payload = randomBytes(8);
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (rtt: number | undefined) => {
      clearTimeout(timer);
      ws.off('pong', onPong);
      ws.off('close', onClose);
      resolve(rtt);
    };
    const onPong = (data: Buffer) => {
      if (data.equals(payload)) done(performance.now() - started);
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.ping(payload, undefined, (err) => {
      if (err) done(undefined);
    });
  });
}
