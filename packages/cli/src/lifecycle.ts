/** Foreground services: run until SIGINT/SIGTERM, then stop cleanly, once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

import { GantryError } from '@gantry/protocol';

export function parsePort(value: string | undefined, fallback: number, what = 'port'): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GantryError('invalid_request', `invalid ${what} '${value}': a number from 0 to 65535`);
  }
  return port;
}
