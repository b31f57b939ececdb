/**
 * Removing the worktrees of finished assignments. The branches stay: they hold the work
 * (`git branch -D gantry/<id>` drops one).
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { git, retryingLocks } from './git.ts';
import { recordName } from './links.ts';
import { scanWorktrees, subfolders, type ListedWorktree } from './list.ts';

export interface PruneResult {
  removed: ListedWorktree[];
  kept: (ListedWorktree & { reason: string })[];
}

/**
 * Kept: assignments in `keep` (still running), worktrees locked with `git worktree lock`, and
 * unless `all`, worktrees with uncommitted changes (a run that stopped before its commit), stale
 * folders (the only copy of their files) and tampered ones (for the user to look at first).
 *
 * `keep` may be a function: it is then asked after the worktrees are listed, so that a run starting
 * meanwhile is either not listed yet or already known as running, never removed under its agent.
 */
export async function pruneWorktrees(
  root: string,
  options: { keep: ReadonlySet<string> | (() => Promise<ReadonlySet<string>>); all?: boolean },
): Promise<PruneResult> {
  const scanned = await scanWorktrees(root);
  const keep = typeof options.keep === 'function' ? await options.keep() : options.keep;
  const result: PruneResult = { removed: [], kept: [] };
  const repos = new Map<string, string | null>();
  for (const { gitCommonDir, gitDir: _admin, ...worktree } of scanned) {
    const reason = keepReason(worktree, keep, options.all === true);
    if (reason) {
      result.kept.push({ ...worktree, reason });
      continue;
    }
    if (!gitCommonDir) rmSync(worktree.path, { recursive: true, force: true });
    else if (worktree.tampered) {
      // Git refuses to remove a worktree whose `.git` does not point back; its admin folder goes at the prune below.
      rmSync(worktree.path, { recursive: true, force: true });
      repos.set(gitCommonDir, worktree.repo);
    } else {
      const main = { gitDir: gitCommonDir, ...(worktree.repo ? { workTree: worktree.repo } : {}) };
      // One --force removes a worktree with changes but, unlike two, never a locked one.
      await retryingLocks(() => git(main, ['worktree', 'remove', '--force', worktree.path]));
      repos.set(gitCommonDir, worktree.repo);
    }
    result.removed.push(worktree);
  }
  for (const [gitDir, top] of repos) {
    await retryingLocks(() => git({ gitDir, ...(top ? { workTree: top } : {}) }, ['worktree', 'prune']));
  }
  removeEmptyGroups(root);
  return result;
}

function keepReason(worktree: ListedWorktree, keep: ReadonlySet<string>, all: boolean): string | undefined {
  if (keep.has(worktree.assignmentId)) return 'its run is still going';
  if (worktree.locked) return 'locked with `git worktree lock`: unlock it to prune it';
  if (all) return undefined;
  if (worktree.tampered)
    return 'its .git was rewritten to point elsewhere (worktree_tampered): look at it first; --all deletes the folder';
  if (worktree.stale && worktree.repo === null)
    return 'gantry has no record of its repository (an older version made it): --all deletes the folder';
  if (worktree.stale)
    return 'git no longer knows it (its repository moved or is gone): --all deletes the folder';
  if (worktree.changed) return 'it has uncommitted changes: --all removes it anyway';
  return undefined;
}

/** A group with no worktree left goes, with its record. */
function removeEmptyGroups(root: string): void {
  if (!existsSync(root)) return;
  for (const group of subfolders(root)) {
    const entries = readdirSync(group);
    if (entries.every((name) => name === recordName)) {
      rmSync(join(group, recordName), { force: true });
      rmdirSync(group);
    }
  }
}
