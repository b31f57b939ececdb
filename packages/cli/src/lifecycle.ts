/** Foreground services: run until SIGINT/SIGTERM, then stop cleanly, once. */
import { GantryError } from '@gantry/protocol/core';

/**
 * Resolves with the first SIGINT or SIGTERM. The handlers stay: a second signal while the service
 * stops says so and shutdown goes on (a signal without a handler would end the process at once,
 * silently, by the signal); a third forces the exit (130). Call it before the ready line is
 * printed, so a signal sent as soon as the service says it is ready is never missed.
 */
export function untilSignal(
  force: () => void = () => process.exit(130),
  write: (line: string) => void = (line) => process.stderr.write(line),
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      received += 1;
      if (received === 1) return resolve(signal);
      if (received === 2)
        return write(`gantry: ${signal}: already stopping; send it again to stop at once\n`);
      write(`gantry: ${signal}: stopping at once\n`);
      force();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export function parsePort(value: string | undefined, fallback: number, what = 'port'): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GantryError('invalid_request', `invalid ${what} '${value}': a number from 0 to 65535`);
  }
  return port;
}
