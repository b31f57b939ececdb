/**
 * Where the serving gateway's log goes: the systemd journal when it runs under a unit that keeps
 * one (standard error as is); otherwise the size-rotated `gateway.log` in the data folder —
 * alone for a detached daemon, and next to the terminal for one in the foreground.
 */
import { LogFile, logsToJournal, type GantryPaths } from '@gantry/gateway';

export type DaemonMode = 'detached' | 'foreground' | 'service';

/** How this process runs the daemon: set by `start --detach` and service units, else the journal tells. */
export function daemonMode(env = process.env): DaemonMode {
  if (env.GANTRY_DAEMON_MODE === 'detached' || env.GANTRY_DAEMON_MODE === 'service')
    return env.GANTRY_DAEMON_MODE;
  return logsToJournal(env) ? 'service' : 'foreground';
}

/** Sends this process's output to the log file (unless the journal keeps it); returns its path or null. */
export function setupDaemonLog(
  paths: GantryPaths,
  mode: DaemonMode,
  options: { maxBytes?: number; files?: number },
): string | null {
  if (logsToJournal()) return null;
  const file = new LogFile(paths.logFile, options);
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: string | Uint8Array) => boolean;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      file.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (mode !== 'detached') return write(chunk);
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  if (mode === 'detached') {
    // No terminal to print a crash to: it goes to the log, then the process ends as it would.
    process.on('uncaughtException', (err) => {
      file.write(`${new Date().toISOString()} error gateway: crashed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    });
  }
  return paths.logFile;
}
