/**
 * A small structured logger: one line per record, `time level message key=value ...`, to stderr,
 * with secrets masked.
 */
import { redact } from './redact.ts';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Node's process where there is one; typed here so the browser (the dashboard) type-checks this file too. */
const nodeProcess = (
  globalThis as {
    process?: { env: Record<string, string | undefined>; stderr: { write(text: string): unknown } };
  }
).process;

export function createLogger(
  name: string,
  level: LogLevel = (nodeProcess?.env.GANTRY_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  write: (line: string) => void = (line) => void nodeProcess?.stderr.write(line),
): Logger {
  const min = order[level] ?? order.info;
  const log =
    (lvl: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (order[lvl] < min) return;
      const parts = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      write(
        redact(
          `${new Date().toISOString()} ${lvl} ${name}: ${msg}${parts.length ? ' ' + parts.join(' ') : ''}\n`,
        ),
      );
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
