/**
 * What ties a worktree folder to its repository, as the gateway recorded it, never as the folder
 * says: each `<repo>-<hash>` group holds `.repository.json` (the repository and its git folder,
 * written when the gateway makes a worktree there), and git's own admin folder
 * `<git folder>/worktrees/<name>` names the worktree it serves. A worktree's `.git` file is only
 * compared with that, to tell a run that rewrote it (`worktree_tampered`).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as z from 'zod';
import { RunFailure } from '@gantry/protocol';
import { readJsonFile, writeSecretJson } from '@gantry/protocol/node';

export interface RepositoryRecord {
  /** The top-level folder of the checkout the binding names. */
  repository: string;
  /** Its git folder shared by every worktree (`<repository>/.git` unless moved). */
  gitCommonDir: string;
}

const recordSchema = z.object({ repository: z.string(), gitCommonDir: z.string() });

/** Dot-named: an assignment id (a worktree folder) never starts with a dot. */
export const recordName = '.repository.json';

export function readRecord(group: string): RepositoryRecord | undefined {
  try {
    return readJsonFile(join(group, recordName), recordSchema);
  } catch {
    return undefined;
  }
}

export function writeRecord(group: string, record: RepositoryRecord): void {
  const known = readRecord(group);
  if (known?.repository === record.repository && known.gitCommonDir === record.gitCommonDir) return;
  writeSecretJson(join(group, recordName), record);
}

/** Git's admin folder for the worktree at `path`: the one whose `gitdir` file names `<path>/.git`. */
export function adminFolderOf(gitCommonDir: string, path: string): string | undefined {
  const admins = join(gitCommonDir, 'worktrees');
  if (!existsSync(admins)) return undefined;
  for (const name of readdirSync(admins).sort()) {
    const admin = join(admins, name);
    const named = pointer(join(admin, 'gitdir'), admin, /^(.+?)\s*$/);
    if (named && realOr(dirname(named)) === realOr(path)) return realOr(admin);
  }
  return undefined;
}

/** Whether `<path>/.git` is still the file git wrote, pointing to `gitDir`, which points back. */
export function linkIntact(path: string, gitDir: string): boolean {
  return describeLink(path, gitDir) === undefined;
}

/**
 * Fails with `worktree_failed` when git no longer has the worktree, and with `worktree_tampered`
 * when its `.git` no longer points where the gateway put it. No git command ran in it either way.
 */
export function checkLink(path: string, gitDir: string): void {
  if (!existsSync(join(gitDir, 'gitdir'))) {
    throw worktreeFailed(`git no longer knows the worktree ${path}: its admin folder ${gitDir} is gone`);
  }
  const problem = describeLink(path, gitDir);
  if (problem) {
    throw worktreeTampered(
      `the worktree ${path} was tampered with: its .git ${problem}, not to ${gitDir} where the gateway put it. No git command ran there and nothing was committed; inspect the folder, then remove it with \`gantry gateway worktrees prune --all\``,
    );
  }
}

function describeLink(path: string, gitDir: string): string | undefined {
  const dotGit = join(path, '.git');
  let stat;
  try {
    stat = lstatSync(dotGit);
  } catch {
    return 'is gone';
  }
  if (!stat.isFile()) return `is now a ${stat.isDirectory() ? 'folder' : 'link'}`;
  const target = pointer(dotGit, path, /^gitdir: (.+?)\s*$/);
  if (!target) return 'no longer names a git folder';
  if (realOr(target) !== realOr(gitDir)) return `points to ${target}`;
  const back = pointer(join(gitDir, 'gitdir'), gitDir, /^(.+?)\s*$/);
  if (!back || realOr(dirname(back)) !== realOr(path)) return 'is no longer the one git knows';
  return undefined;
}

/** The path a one-line pointer file names, relative ones (`worktree.useRelativePaths`) resolved from `base`. */
function pointer(file: string, base: string, pattern: RegExp): string | undefined {
  try {
    const match = pattern.exec(readFileSync(file, 'utf8').split('\n')[0] ?? '');
    return match?.[1] ? resolve(base, match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export function worktreeFailed(message: string): RunFailure {
  return new RunFailure('worktree_failed', message);
}

export function worktreeTampered(message: string): RunFailure {
  return new RunFailure('worktree_tampered', message);
}
