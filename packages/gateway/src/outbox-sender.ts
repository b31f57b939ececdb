/**
 * What the gateway sends on its connection to the hub once the hub said `hello_ok`: frames of the
 * moment, and the outbox's rows in id order. A row just written goes out from memory when every row
 * before it has gone; otherwise rows are read back from the outbox, paced by the socket's buffered
 * amount so a burst never piles up in memory. Rows leave the outbox only when the hub acks them
 * (not here); a new connection sends them all again from the start.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { GatewayDb } from './state/gateway-db.ts';

const maxBufferedBytes = 4 * 1024 * 1024;
const maxHeldChars = 16 * 1024 * 1024;

interface Row {
  id: number;
  frame: string;
}

export class OutboxSender {
  /** The connection while the hub has said `hello_ok` on it. */
  private ws: WebSocket | undefined;
  /** Sockets holding this turn's frames until it ends (`write`). */
  private readonly corked = new Set<Socket>();
  private lastSentId = 0;
  /**
   * Rows written while the socket was too full to take them (a hub slower than a run's output), in
   * id order, sent from here rather than read back from the outbox; past `maxHeldChars` the outbox
   * alone has them. Dropped when the connection closes: the next one replays the outbox.
   */
  private held: Row[] = [];
  private heldChars = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  /** The gateway is stopping: no more rows go out (frames of the moment still may). */
  private stopped = false;

  constructor(private readonly db: GatewayDb) {}

  /** The hub said `hello_ok` on `ws`: frames go out on it, and the outbox from its first row (`pump`). */
  attach(ws: WebSocket): void {
    this.ws = ws;
    this.lastSentId = 0;
    this.stopped = false;
  }

  /** The gateway stops: rows stay in the outbox for the next start. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
  }

  /** The connection closed: nothing more is sent on it. */
  detach(): void {
    this.ws = undefined;
    this.held = [];
    this.heldChars = 0;
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
  }

  /** Sends a frame now if attached; false if not (frames that must not be lost go through the outbox). */
  send(text: string): boolean {
    if (!this.ws) return false;
    this.write(this.ws, text);
    return true;
  }

  /**
   * A row just written to the outbox: sent from memory when everything before it has been sent
   * (the usual case), else left for `pump` to read back in order.
   */
  deliver(id: number, frame: string): void {
    const ws = this.ws;
    if (this.stopped) return;
    if (ws && !this.pumpTimer && this.lastSentId === id - 1 && ws.bufferedAmount <= maxBufferedBytes) {
      this.write(ws, frame);
      this.lastSentId = id;
      return;
    }
    if (ws && this.heldChars + frame.length <= maxHeldChars) {
      this.held.push({ id, frame });
      this.heldChars += frame.length;
    }
    this.pump();
  }

  /** Sends outbox rows not yet sent on this connection. */
  pump(): void {
    const ws = this.ws;
    if (!ws || this.pumpTimer || this.stopped) return;
    while (ws.readyState === WebSocket.OPEN) {
      if (ws.bufferedAmount > maxBufferedBytes) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, 20);
        return;
      }
      const rows = this.nextRows();
      if (rows.length === 0) return;
      for (const row of rows) {
        this.write(ws, row.frame);
        this.lastSentId = row.id;
      }
    }
  }

  /** The next rows to send: those held in memory when they follow the last one sent, else from the outbox. */
  private nextRows(): Row[] {
    let sent = 0;
    while (sent < this.held.length && (this.held[sent]?.id ?? 0) <= this.lastSentId) {
      this.heldChars -= this.held[sent]?.frame.length ?? 0;
      sent += 1;
    }
    if (sent > 0) this.held.splice(0, sent);
    const next: Row[] = [];
    for (const row of this.held) {
      if (row.id !== this.lastSentId + 1 + next.length || next.length === 100) break;
      next.push(row);
    }
    return next.length > 0 ? next : this.db.pending(this.lastSentId, 100);
  }

  /**
   * Frames sent in one run of this process's code go out in one write: `accept` and `starting`, or
   * a run's last events and its result, wake the hub once rather than once a frame.
   */
  private write(ws: WebSocket, text: string): void {
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    if (socket && !this.corked.has(socket)) {
      this.corked.add(socket);
      socket.cork();
      process.nextTick(() => {
        this.corked.delete(socket);
        socket.uncork();
      });
    }
    ws.send(text);
  }
}
