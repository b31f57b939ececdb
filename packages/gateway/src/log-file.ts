/**
 * The daemon's log file, rotated by size: past `maxBytes`, gateway.log becomes gateway.log.1 (and
 * .1 becomes .2, ...), keeping `files` files in all. Writes are synchronous so a line written just
 * before the process exits is never lost, and a line is never split across two files.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export interface LogFileOptions {
  /** Rotate once the file is this big (default 10 MiB). */
  maxBytes?: number;
  /** How many files are kept, the current one included (default 5). */
  files?: number;
}

export const defaultLogMaxBytes = 10 * 1024 * 1024;
export const defaultLogFiles = 5;

export class LogFile {
  private fd: number;
  private size: number;
  private readonly maxBytes: number;
  private readonly files: number;

  constructor(
    readonly path: string,
    options: LogFileOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? defaultLogMaxBytes;
    this.files = Math.max(1, options.files ?? defaultLogFiles);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    writeSync(this.fd, text);
    this.size += bytes;
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.path}.${this.files - 1}`, { force: true });
    for (let n = this.files - 2; n >= 1; n--) {
      if (existsSync(`${this.path}.${n}`)) renameSync(`${this.path}.${n}`, `${this.path}.${n + 1}`);
    }
    if (this.files > 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }
}

/**
 * Whether this process's standard error goes to the systemd journal (`JOURNAL_STREAM` names its
 * device and inode), or it runs as a systemd unit with no terminal: the journal keeps the log then.
 */
export function logsToJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const stream = env.JOURNAL_STREAM;
  if (stream) {
    try {
      const stat = fstatSync(2);
      return stream === `${stat.dev}:${stat.ino}`;
    } catch {
      return false;
    }
  }
  return Boolean(env.INVOCATION_ID) && !process.stderr.isTTY && !fstatSync(2).isFile();
}
