/**
 * `gantry gateway logs [-n N] [-f]`: the last lines of the daemon's log file, and with `-f` what
 * it writes next, across rotations, until Ctrl+C. A gateway whose log the journal keeps says so.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { GantryError } from '@gantry/protocol';
import { gantryPaths } from '@gantry/gateway';
import { readDaemonRecord, runningPid } from '../daemon-record.ts';
import { untilSignal } from '../lifecycle.ts';

export function lastLines(text: string, n: number): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return n === 0 ? [] : lines.slice(-n);
}

export async function logs(flags: { lines?: string; follow?: boolean }): Promise<void> {
  const paths = gantryPaths();
  const n = Number(flags.lines ?? 50);
  if (!Number.isInteger(n) || n < 0) throw new GantryError('invalid_request', '-n must be a whole number');
  const record = readDaemonRecord(paths);
  if (!existsSync(paths.logFile)) {
    if (record && record.logFile === null)
      throw new GantryError(
        'not_found',
        'this gateway logs to the systemd journal: journalctl --user -u gantry-gateway (or gantry gateway service logs)',
      );
    const pid = runningPid(paths);
    if (pid !== undefined)
      throw new GantryError(
        'not_found',
        `the gateway running here (pid ${pid}) writes to the terminal it was started in; ` +
          `only a detached or service gateway writes ${paths.logFile} (gantry gateway start --detach)`,
      );
    throw new GantryError(
      'not_found',
      `no gateway log yet (${paths.logFile}): start it with gantry gateway start --detach`,
    );
  }
  const text = readFileSync(paths.logFile, 'utf8');
  for (const line of lastLines(text, n)) process.stdout.write(`${line}\n`);
  if (!flags.follow) return;
  await follow(paths.logFile, Buffer.byteLength(text));
}

/** Prints what is appended to the file; a rotation (a new, smaller file) is read from its start. */
async function follow(path: string, offset: number): Promise<void> {
  let position = offset;
  let inode = statSync(path).ino;
  let stopped = false;
  void untilSignal().then(() => (stopped = true));
  const buffer = Buffer.alloc(64 * 1024);
  while (!stopped) {
    const stat = existsSync(path) ? statSync(path) : undefined;
    if (stat && (stat.ino !== inode || stat.size < position)) {
      inode = stat.ino;
      position = 0;
    }
    if (stat && stat.size > position) {
      const fd = openSync(path, 'r');
      try {
        for (;;) {
          const read = readSync(fd, buffer, 0, buffer.length, position);
          if (read === 0) break;
          process.stdout.write(buffer.subarray(0, read));
          position += read;
        }
      } finally {
        closeSync(fd);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
