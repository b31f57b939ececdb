/**
 * Git worktrees for `--isolation worktree` bindings: each assignment runs in its own checkout,
 * `<root>/<repo name>-<hash of the repo's path>/<assignment id>`, on branch `gantry/<assignment id>`,
 * so several runs of one binding can edit at once without seeing each other. When a run ends its
 * changes are committed on that branch; the worktree stays for the user to inspect until pruned.
 * Every git command goes through `git.ts`, naming the repository the gateway recorded.
 */
export { prepareWorktree, isRepositoryWithCommit, type Worktree } from './prepare.ts';
export { finishWorktree, patchLimit, worktreeAt, type RunWorktree, type WorktreeChanges } from './finish.ts';
export { listWorktrees, type ListedWorktree } from './list.ts';
export { pruneWorktrees, type PruneResult } from './prune.ts';
