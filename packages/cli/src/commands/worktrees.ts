/** `gantry gateway worktrees list|prune`: the git worktrees of runs on `--isolation worktree` bindings. */
import {
  gantryPaths,
  listWorktrees,
  pruneWorktrees,
  type GantryPaths,
  type ListedWorktree,
} from '@gantry/gateway';
import { daemonStatus } from '../daemon.ts';
import { ExitError, exitCodes, printJson, printLine, table } from '../output.ts';

export async function listWorktreesCommand(flags: { json?: boolean }): Promise<void> {
  const worktrees = await listWorktrees(gantryPaths().worktreeDir);
  if (flags.json) return printJson(worktrees);
  if (worktrees.length === 0) {
    return printLine('No worktrees: runs on a binding with --isolation worktree make them.');
  }
  printLine(
    table([
      ['ASSIGNMENT', 'BRANCH', 'STATE', 'REPOSITORY', 'PATH'],
      ...worktrees.map((w) => [w.assignmentId, w.branch ?? '-', state(w), w.repo ?? '?', w.path]),
    ]),
  );
}

function state(worktree: ListedWorktree): string {
  if (worktree.stale) return 'stale';
  if (worktree.tampered) return 'tampered';
  return `${worktree.changed ? 'changed' : 'clean'}${worktree.locked ? ',locked' : ''}`;
}

/**
 * Removes the worktrees of finished runs; their `gantry/<id>` branches stay. A run the gateway
 * daemon still has going keeps its worktree, so the daemon is asked, and prune refuses when it
 * runs but does not answer.
 */
export async function pruneWorktreesCommand(flags: { json?: boolean; all?: boolean }): Promise<void> {
  const paths = gantryPaths();
  const result = await pruneWorktrees(paths.worktreeDir, {
    keep: () => runningAssignments(paths),
    all: flags.all === true,
  });
  if (flags.json) {
    return printJson([
      ...result.removed.map((w) => ({ ...w, removed: true })),
      ...result.kept.map((w) => ({ ...w, removed: false })),
    ]);
  }
  if (result.removed.length === 0 && result.kept.length === 0) return printLine('No worktrees to prune.');
  printLine(
    table([
      ['ASSIGNMENT', 'BRANCH', 'RESULT'],
      ...result.removed.map((w) => [w.assignmentId, w.branch ?? '-', 'removed']),
      ...result.kept.map((w) => [w.assignmentId, w.branch ?? '-', `kept: ${w.reason}`]),
    ]),
  );
  if (result.removed.some((w) => w.branch)) {
    printLine('The branches stay, holding the work: `git branch -D gantry/<id>` drops one.');
  }
}

/** The assignments the gateway daemon is running now: none when no daemon runs on this machine. */
async function runningAssignments(paths: GantryPaths): Promise<Set<string>> {
  const daemon = await daemonStatus(paths);
  if (daemon.state === 'stopped') return new Set();
  if (daemon.state === 'unreachable')
    throw new ExitError(
      exitCodes.unreachable,
      `the gateway daemon (pid ${daemon.pid}) does not answer at ${daemon.url} (${daemon.reason}), so prune cannot tell which runs are still going: try again, or stop the daemon first`,
    );
  return new Set(daemon.status.running.map((r) => r.assignmentId));
}
