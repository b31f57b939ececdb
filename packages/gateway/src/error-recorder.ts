/**
 * The daemon's last error, for `gateway status`: a logger that passes every record on and keeps
 * the last warning or error with its time.
 */
import type { Logger } from '@gantry/protocol';

export interface LastError {
  at: string;
  level: 'warn' | 'error';
  message: string;
}

export class ErrorRecorder {
  last: LastError | undefined;
  readonly log: Logger;

  constructor(inner: Logger) {
    const keep =
      (level: 'warn' | 'error') =>
      (message: string, fields?: Record<string, unknown>): void => {
        const detail = fields?.error ?? fields?.reason ?? fields?.detail;
        this.last = {
          at: new Date().toISOString(),
          level,
          message: typeof detail === 'string' ? `${message}: ${detail}` : message,
        };
        inner[level](message, fields);
      };
    this.log = {
      debug: (message, fields) => inner.debug(message, fields),
      info: (message, fields) => inner.info(message, fields),
      warn: keep('warn'),
      error: keep('error'),
    };
  }
}

/** One word for a hub connection: connected, pending (an approval), refused or connecting. */
export function hubState(hub: { connected: boolean; refused: string | null; pending: string | null }) {
  if (hub.connected) return hub.pending ? 'pending' : 'connected';
  if (hub.pending) return 'pending';
  return hub.refused ? 'refused' : 'connecting';
}
