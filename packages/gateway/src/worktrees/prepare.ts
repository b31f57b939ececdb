/**
 * Making (or, for a retry, finding) the worktree of an assignment:
 * `<root>/<repo name>-<hash of the repo's path>/<assignment id>` on branch `gantry/<assignment id>`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { git, GitFailure, retryingLocks, type GitPlace, type NamedRepository } from './git.ts';
import { adminFolderOf, checkLink, worktreeFailed, writeRecord } from './links.ts';
import { gitWorktrees } from './list.ts';

export interface Worktree {
  /** The worktree's folder (its top level). */
  path: string;
  /** Where the run works: the binding's workdir inside the worktree (`path` when it is the repo's top). */
  workdir: string;
  /** `gantry/<assignment id>`. */
  branch: string;
  /** The top-level folder of the main checkout. */
  repo: string;
  /** Git's admin folder for this worktree: every later git command names it, never the worktree's `.git`. */
  gitDir: string;
  /** The commit the attempt starts from: finishing lists what changed since. */
  base: string;
  /** Whether a retry of the assignment picked up the worktree an earlier attempt left. */
  reused: boolean;
}

/**
 * Several may be prepared at once on one repository: a `worktree add` can fail on another's lock
 * files or half-written admin folder, so those failures are retried. A retry whose worktree a run
 * tampered with fails with `worktree_tampered`.
 */
export async function prepareWorktree(options: {
  repo: string;
  assignmentId: string;
  root: string;
}): Promise<Worktree> {
  try {
    const id = checkedAssignmentId(options.assignmentId);
    const { top, gitCommonDir } = await repositoryOf(options.repo);
    const group = join(options.root, groupName(top));
    mkdirSync(group, { recursive: true, mode: 0o700 });
    writeRecord(group, { repository: top, gitCommonDir });
    // Git records worktree paths with symlinks resolved; so do we, to recognise them later.
    const path = join(realpathSync(group), id);
    const branch = `gantry/${id}`;
    const main: NamedRepository = { gitDir: gitCommonDir, workTree: top };
    // Asked before adding: a failed concurrent add can leave the branch behind for the next try.
    const reused = await hasBranch(main, branch);
    await retryingLocks(() => addOrReuse(main, path, branch));
    const gitDir = adminFolderOf(gitCommonDir, path);
    if (!gitDir) throw worktreeFailed(`git made ${path} but has no admin folder for it`);
    checkLink(path, gitDir);
    const workdir = join(path, relative(top, realpathSync(options.repo)));
    // A binding workdir git does not track (an empty or ignored folder) is not in the checkout.
    mkdirSync(workdir, { recursive: true });
    const base = (await git({ gitDir, workTree: path }, ['rev-parse', 'HEAD'])).trim();
    return { path, workdir, branch, repo: top, gitDir, base, reused };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'worktree_failed' || code === 'worktree_tampered') throw err;
    throw worktreeFailed(`could not make the worktree of ${options.assignmentId}: ${(err as Error).message}`);
  }
}

/** Whether `dir` is in a git repository with a commit (what `--isolation worktree` needs). */
export async function isRepositoryWithCommit(dir: string): Promise<boolean> {
  try {
    await git({ userFolder: dir }, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
    return true;
  } catch {
    return false;
  }
}

/**
 * The repository's top-level folder and git folder, found from the folder the user bound (the one
 * discovery gantry does); fails with `worktree_failed` and the fix when there is none to branch from.
 */
async function repositoryOf(repo: string): Promise<{ top: string; gitCommonDir: string }> {
  const withoutIsolation = 'or bind without --isolation worktree';
  if (!existsSync(repo) || !statSync(repo).isDirectory()) {
    throw worktreeFailed(
      `the workdir ${repo} is not a folder: create it as a git repository, ${withoutIsolation}`,
    );
  }
  let top: string;
  let gitCommonDir: string;
  try {
    const out = await git({ userFolder: repo }, [
      'rev-parse',
      '--path-format=absolute',
      '--show-toplevel',
      '--git-common-dir',
    ]);
    const [shown, common] = out.split('\n');
    if (!shown || !common) throw new GitFailure('git rev-parse: no top-level folder', '');
    top = realpathSync(shown);
    gitCommonDir = realpathSync(common);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw worktreeFailed(`git is not installed (not found on PATH): install git, ${withoutIsolation}`);
    }
    throw worktreeFailed(
      `${repo} is not a git repository: run \`git init\` and commit there, ${withoutIsolation}`,
    );
  }
  try {
    await git({ gitDir: gitCommonDir, workTree: top }, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  } catch {
    throw worktreeFailed(
      `the git repository ${top} has no commit yet, and a worktree starts from one: commit once, ${withoutIsolation}`,
    );
  }
  return { top, gitCommonDir };
}

/**
 * Adds the worktree on a new branch from the repository's HEAD, or finds an earlier attempt's.
 * A retry of the same assignment (say, after its gateway was lost) continues where that attempt
 * stopped, as a run without isolation would in its shared workdir: the branch and any edits it
 * left are kept, never reset, so no work is lost. If the folder is gone but the branch is there,
 * the branch is checked out again.
 */
async function addOrReuse(main: NamedRepository, path: string, branch: string): Promise<void> {
  const top = main.workTree ?? main.gitDir;
  const known = (await gitWorktrees(main.gitDir)).find((w) => w.path === path);
  if (known && existsSync(path)) {
    if (known.branch !== branch) {
      throw worktreeFailed(
        `${path} is a worktree of ${top} on ${known.branch ?? 'a detached HEAD'}, not ${branch}: check out ${branch} there, or remove it with \`git -C ${top} worktree remove ${path}\``,
      );
    }
    return;
  }
  // Its folder was deleted by hand: forget it, or git refuses to add it again.
  if (known) await git(main, ['worktree', 'prune']);
  else if (existsSync(path)) {
    throw worktreeFailed(`${path} exists but is not a worktree of ${top}: remove that folder, then retry`);
  }
  const add = (await hasBranch(main, branch)) ? [path, branch] : ['-b', branch, path, 'HEAD'];
  await git(main, ['worktree', 'add', '--quiet', ...add]);
}

async function hasBranch(main: GitPlace, branch: string): Promise<boolean> {
  try {
    await git(main, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
    return true;
  } catch (err) {
    if (err instanceof GitFailure) return false;
    throw err;
  }
}

/** Assignment ids name a folder and a branch: anything else could escape the folder or break the ref. */
function checkedAssignmentId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id) || id.includes('..') || /\.(lock)?$/.test(id)) {
    throw worktreeFailed(`assignment id '${id}' cannot name a worktree folder and branch`);
  }
  return id;
}

/** `<repo name>-<hash>`: readable, and unique for two repositories of the same name. */
function groupName(top: string): string {
  const name = basename(top).replace(/[^\w.-]/g, '_') || 'repo';
  return `${name}-${createHash('sha256').update(top).digest('hex').slice(0, 10)}`;
}
