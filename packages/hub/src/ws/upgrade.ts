/**
 * HTTP upgrades to `/v1/gateway/ws`: other paths get a 404, and a socket over the pending-handshake
 * caps a 503 before the WebSocket handshake completes (the cheapest refusal there is); the rest
 * become gateway sockets that start at the hello's frame limit.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { GantryError, httpStatus, maxHelloFrameBytes } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { handleGatewaySocket } from './gateway-socket.ts';
import { HandshakeGate, raiseFrameLimit, type HandshakeLimits } from './handshakes.ts';

/** Refusals over the caps are logged at most this often (an attack must not flood the log). */
const refusalLogMs = 10_000;

export interface GatewayUpgrades {
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  wss: WebSocketServer;
  gate: HandshakeGate;
}

export function gatewayUpgrades(ctx: HubContext, limits: HandshakeLimits): GatewayUpgrades {
  const gate = new HandshakeGate(limits);
  // Compression stays off: its inflater keeps a limit of its own that a served hello would not raise.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxHelloFrameBytes,
    perMessageDeflate: false,
  });
  wss.on('error', (err) => ctx.log.warn('gateway WebSocket server error', { error: err.message }));
  let refused = 0;
  let lastLogged = 0;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands over an upgraded socket with no error listener: a peer's reset must not crash the hub.
    socket.on('error', (err) => ctx.log.debug('gateway upgrade socket error', { error: err.message }));
    const path = new URL(req.url ?? '/', 'http://hub').pathname;
    if (path !== '/v1/gateway/ws')
      return refuse(socket, new GantryError('not_found', `no WebSocket at ${path}`));
    const place = gate.admit(req.socket.remoteAddress ?? 'unknown');
    if ('refused' in place) {
      refused += 1;
      if (Date.now() - lastLogged > refusalLogMs) {
        ctx.log.warn('gateway handshakes refused: too many in progress', { refused, reason: place.refused });
        lastLogged = Date.now();
        refused = 0;
      }
      return refuse(socket, new GantryError('unavailable', place.refused));
    }
    socket.once('close', place.release);
    wss.handleUpgrade(req, socket, head, (ws) =>
      handleGatewaySocket(ws, ctx, {
        served: () => {
          place.release();
          raiseFrameLimit(ws);
        },
        // Held for a device approval: authenticated, and possibly for hours, so it leaves the count.
        held: place.release,
      }),
    );
  };
  return { onUpgrade, wss, gate };
}

function refuse(socket: Duplex, error: GantryError): void {
  const body = JSON.stringify(error.toWire());
  const status = httpStatus[error.code];
  const retry = error.code === 'unavailable' ? 'retry-after: 1\r\n' : '';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${status === 503 ? 'Service Unavailable' : 'Not Found'}\r\n${retry}` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
