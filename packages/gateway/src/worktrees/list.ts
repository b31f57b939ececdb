/**
 * Every worktree folder under the worktree folder, as git knows it: each `<repo>-<hash>` group's
 * recorded repository is asked for its `git worktree list`. A folder git does not know (its
 * repository moved or was deleted, or gantry has no record of it) is listed as stale.
 */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { git, GitFailure, retryingLocks } from './git.ts';
import { adminFolderOf, linkIntact, readRecord } from './links.ts';
import { pendingChanges } from './finish.ts';

/** A worktree under the worktree folder, as `gantry gateway worktrees list` shows it. */
export interface ListedWorktree {
  assignmentId: string;
  path: string;
  /** The main checkout; for a stale folder the one gantry recorded, if any. */
  repo: string | null;
  /** The checked-out branch, `null` when detached or stale. */
  branch: string | null;
  head: string | null;
  /** Uncommitted changes: a run still going, or one that stopped before its changes were committed. */
  changed: boolean;
  /** Locked with `git worktree lock`: prune leaves it alone. */
  locked: boolean;
  /** Git no longer knows the folder (its repository was moved or deleted). */
  stale: boolean;
  /** Its `.git` no longer points to the admin folder git made for it (a run rewrote it). */
  tampered: boolean;
}

/** A listed worktree with the git folders prune works through. */
export interface ScannedWorktree extends ListedWorktree {
  gitCommonDir?: string;
  gitDir?: string;
}

export async function listWorktrees(root: string): Promise<ListedWorktree[]> {
  return (await scanWorktrees(root)).map(({ gitCommonDir: _common, gitDir: _admin, ...listed }) => listed);
}

export async function scanWorktrees(root: string): Promise<ScannedWorktree[]> {
  if (!existsSync(root)) return [];
  const listed: ScannedWorktree[] = [];
  for (const group of subfolders(realpathSync(root))) {
    const record = readRecord(group);
    const worktrees = record ? await knownWorktrees(record.gitCommonDir) : undefined;
    for (const path of subfolders(group)) {
      const known = worktrees?.find((w) => w.path === path);
      const gitDir = record && known ? adminFolderOf(record.gitCommonDir, path) : undefined;
      const entry = { assignmentId: basename(path), path, tampered: false };
      if (!record || !worktrees || !known || !gitDir) {
        const unknown = { repo: record?.repository ?? null, branch: null, head: null };
        listed.push({ ...entry, ...unknown, changed: false, locked: false, stale: true });
        continue;
      }
      const { branch, head, locked } = known;
      // Named by its admin folder, never by its `.git`: safe to ask even when that was rewritten.
      const changed = (await pendingChanges({ gitDir, workTree: path })).length > 0;
      const repo = worktrees[0]?.path ?? record.repository;
      const tampered = !linkIntact(path, gitDir);
      const folders = { gitCommonDir: record.gitCommonDir, gitDir };
      listed.push({ ...entry, repo, branch, head, changed, locked, stale: false, tampered, ...folders });
    }
  }
  return listed;
}

/** The repository's worktrees; undefined when its git folder is gone or broken. */
async function knownWorktrees(gitCommonDir: string): Promise<GitWorktree[] | undefined> {
  if (!existsSync(gitCommonDir)) return undefined;
  try {
    return await retryingLocks(() => gitWorktrees(gitCommonDir));
  } catch (err) {
    if (err instanceof GitFailure) return undefined;
    throw err;
  }
}

export function subfolders(path: string): string[] {
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(path, entry.name))
    .sort();
}

interface GitWorktree {
  path: string;
  head: string | null;
  branch: string | null;
  locked: boolean;
}

/** `git worktree list` of a repository, named by its git folder: the main checkout first. */
export async function gitWorktrees(gitCommonDir: string): Promise<GitWorktree[]> {
  return parseWorktreeList(await git({ gitDir: gitCommonDir }, ['worktree', 'list', '--porcelain', '-z']));
}

/** `git worktree list --porcelain -z`: NUL-ended `key value` lines, an empty one after each worktree. */
function parseWorktreeList(out: string): GitWorktree[] {
  const worktrees: GitWorktree[] = [];
  let current: GitWorktree | undefined;
  for (const line of out.split('\0')) {
    const [key, value = ''] = splitOnce(line, ' ');
    if (key === 'worktree') {
      current = { path: value, head: null, branch: null, locked: false };
      worktrees.push(current);
    } else if (current && key === 'HEAD') current.head = value;
    else if (current && key === 'branch') current.branch = value.replace(/^refs\/heads\//, '');
    else if (current && key === 'locked') current.locked = true;
  }
  return worktrees;
}

function splitOnce(line: string, separator: string): [string, string?] {
  const at = line.indexOf(separator);
  return at < 0 ? [line] : [line.slice(0, at), line.slice(at + 1)];
}
