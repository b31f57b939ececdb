/**
 * Folders and files that hold secrets (DESIGN §5): folders 0700, files 0600, owned by this OS
 * user. One that is looser but ours is tightened, with a warning; one that belongs to someone else
 * (or a shared folder like /tmp) is refused, naming it and the fix.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { GantryError } from '../gantry-error.ts';

export type Warn = (message: string) => void;

const toStderr: Warn = (message) => void process.stderr.write(`gantry: warning: ${message}\n`);

export const privateFolderMode = 0o700;
export const privateFileMode = 0o600;

/** Makes `dir` (and any missing parent) 0700, or tightens it; refuses one that is not this user's. */
export function ensurePrivateFolder(dir: string, warn: Warn = toStderr): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: privateFolderMode });
  else tighten(dir, privateFolderMode, warn);
}

/**
 * Makes an empty 0600 file at `path` if there is none, or tightens the one there. Its folder is made
 * 0700 when missing, but an existing one is left as it is: it may be any folder (`--db ./hub.db`).
 */
export function ensurePrivateFile(path: string, warn: Warn = toStderr): void {
  if (!existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true, mode: privateFolderMode });
  if (existsSync(path)) return tighten(path, privateFileMode, warn);
  // 'a' never truncates: a file made meanwhile by another process keeps its content.
  closeSync(openSync(path, 'a', privateFileMode));
}

/** Tightens `path` if it exists (a database's `-wal`/`-shm` left by an older version). */
export function tightenIfPresent(path: string, warn: Warn = toStderr): void {
  if (existsSync(path)) tighten(path, privateFileMode, warn);
}

/** Writes a credential atomically, 0600, in a 0700 folder. */
export function writePrivateFile(path: string, content: string, warn: Warn = toStderr): void {
  ensurePrivateFolder(dirname(path), warn);
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content, { mode: privateFileMode });
  chmodSync(tmp, privateFileMode);
  renameSync(tmp, path);
}

/** What is wrong with `path` for holding secrets (for `auth doctor`), and the command that fixes it. */
export function modeProblem(
  path: string,
  wanted: number,
): { mode: string; problem: string; fix: string } | undefined {
  const stat = statSync(path);
  const mode = octal(stat.mode & 0o777);
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid)
    return { mode, problem: `belongs to another user (uid ${stat.uid})`, fix: `chown ${uid} ${path}` };
  if ((stat.mode & 0o777 & ~wanted) !== 0)
    return { mode, problem: `has mode ${mode}: others may read it`, fix: `chmod ${octal(wanted)} ${path}` };
  return undefined;
}

function tighten(path: string, wanted: number, warn: Warn): void {
  const stat = statSync(path);
  const what = stat.isDirectory() ? 'folder' : 'file';
  refuseShared(path, stat, what);
  const mode = stat.mode & 0o777;
  if ((mode & ~wanted) === 0) return;
  try {
    chmodSync(path, mode & wanted);
  } catch (err) {
    throw new GantryError(
      'invalid_request',
      `the ${what} ${path} has mode ${octal(mode)} and could not be made ${octal(wanted)} (${(err as Error).message}): run \`chmod ${octal(wanted)} ${path}\`, or use another ${what}`,
    );
  }
  warn(`${path} had mode ${octal(mode)}, which let other users read it; it is now ${octal(mode & wanted)}`);
}

/** Someone else's folder, or one every user may write to, cannot be kept private by tightening it. */
function refuseShared(path: string, stat: Stats, what: string): void {
  const uid = process.getuid?.();
  const shared = stat.isDirectory() && (stat.mode & 0o1000) !== 0;
  if ((uid === undefined || stat.uid === uid) && !shared) return;
  const why = shared
    ? 'it is a shared folder (sticky, like /tmp) that other users write to'
    : `it belongs to another user (uid ${stat.uid}), who can read what is in it`;
  const fix =
    what === 'folder'
      ? `use a folder of your own (for the hub: --data-dir), or have ${path} made yours: \`chown ${uid} ${path} && chmod 700 ${path}\``
      : `remove it, or make it yours: \`chown ${uid} ${path} && chmod 600 ${path}\``;
  throw new GantryError(
    'invalid_request',
    `gantry keeps no secret in the ${what} ${path}: ${why}. Fix: ${fix}`,
  );
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
