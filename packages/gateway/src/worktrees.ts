/**
 * Git worktrees for `--isolation worktree` bindings: each assignment runs in its own checkout,
 * `<root>/<repo name>-<hash of the repo's path>/<assignment id>`, on branch `gantry/<assignment id>`,
 * so several runs of one binding can edit at once without seeing each other. When a run ends its
 * changes are committed on that branch; the worktree stays for the user to inspect until pruned.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface Worktree {
  /** The worktree's folder (its top level). */
  path: string;
  /** Where the run works: the binding's workdir inside the worktree (`path` when it is the repo's top). */
  workdir: string;
  /** `gantry/<assignment id>`. */
  branch: string;
  /** The top-level folder of the main checkout. */
  repo: string;
  /** The commit the attempt starts from: finishing lists what changed since. */
  base: string;
  /** Whether a retry of the assignment picked up the worktree an earlier attempt left. */
  reused: boolean;
}

/** A worktree under the worktree folder, as `gantry gateway worktrees list` shows it. */
export interface ListedWorktree {
  assignmentId: string;
  path: string;
  /** The main checkout; for a stale folder the one its `.git` file names, if any. */
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
}

export interface PruneResult {
  removed: ListedWorktree[];
  kept: (ListedWorktree & { reason: string })[];
}

const gitIdentity = ['-c', 'user.name=Gantry', '-c', 'user.email=gantry@localhost'];
/**
 * Repository hooks do not run for gantry's own git calls: a daemon must not block on a hook that
 * prompts, installs packages or rejects a work-in-progress commit; the checkout is complete without them.
 */
const noHooks = ['-c', 'core.hooksPath=/dev/null'];

// ---- prepare ------------------------------------------------------------------------------------

/**
 * Makes (or, for a retry, finds) the worktree of an assignment. Several may be prepared at once on
 * one repository: a `worktree add` can fail on another's lock files or half-written admin folder,
 * so those failures are retried.
 */
export async function prepareWorktree(options: {
  repo: string;
  assignmentId: string;
  root: string;
}): Promise<Worktree> {
  try {
    const id = checkedAssignmentId(options.assignmentId);
    const top = await repositoryTop(options.repo);
    const group = join(options.root, groupName(top));
    mkdirSync(group, { recursive: true, mode: 0o700 });
    // Git records worktree paths with symlinks resolved; so do we, to recognise them later.
    const path = join(realpathSync(group), id);
    const branch = `gantry/${id}`;
    // Asked before adding: a failed concurrent add can leave the branch behind for the next try.
    const reused = await hasBranch(top, branch);
    await retryingLocks(() => addOrReuse(top, path, branch));
    const workdir = join(path, relative(top, realpathSync(options.repo)));
    // A binding workdir git does not track (an empty or ignored folder) is not in the checkout.
    mkdirSync(workdir, { recursive: true });
    const base = (await git(['-C', path, 'rev-parse', 'HEAD'])).trim();
    return { path, workdir, branch, repo: top, base, reused };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'worktree_failed') throw err;
    throw worktreeFailed(`could not make the worktree of ${options.assignmentId}: ${(err as Error).message}`);
  }
}

/** The repository's top-level folder; fails with `worktree_failed` and the fix when there is none to branch from. */
async function repositoryTop(repo: string): Promise<string> {
  const withoutIsolation = 'or bind without --isolation worktree';
  if (!existsSync(repo) || !statSync(repo).isDirectory()) {
    throw worktreeFailed(
      `the workdir ${repo} is not a folder: create it as a git repository, ${withoutIsolation}`,
    );
  }
  let top: string;
  try {
    top = realpathSync((await git(['-C', repo, 'rev-parse', '--show-toplevel'])).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw worktreeFailed(`git is not installed (not found on PATH): install git, ${withoutIsolation}`);
    }
    throw worktreeFailed(
      `${repo} is not a git repository: run \`git init\` and commit there, ${withoutIsolation}`,
    );
  }
  try {
    await git(['-C', top, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  } catch {
    throw worktreeFailed(
      `the git repository ${top} has no commit yet, and a worktree starts from one: commit once, ${withoutIsolation}`,
    );
  }
  return top;
}

/**
 * Adds the worktree on a new branch from the repository's HEAD, or finds an earlier attempt's.
 * A retry of the same assignment (say, after its gateway was lost) continues where that attempt
 * stopped, as a run without isolation would in its shared workdir: the branch and any edits it
 * left are kept, never reset, so no work is lost. If the folder is gone but the branch is there,
 * the branch is checked out again.
 */
async function addOrReuse(top: string, path: string, branch: string): Promise<void> {
  const known = (await gitWorktrees(top)).find((w) => w.path === path);
  if (known && existsSync(path)) {
    if (known.branch !== branch) {
      throw worktreeFailed(
        `${path} is a worktree of ${top} on ${known.branch ?? 'a detached HEAD'}, not ${branch}: check out ${branch} there, or remove it with \`git -C ${top} worktree remove ${path}\``,
      );
    }
    return;
  }
  // Its folder was deleted by hand: forget it, or git refuses to add it again.
  if (known) await git(['-C', top, 'worktree', 'prune']);
  else if (existsSync(path)) {
    throw worktreeFailed(`${path} exists but is not a worktree of ${top}: remove that folder, then retry`);
  }
  const add = (await hasBranch(top, branch)) ? [path, branch] : ['-b', branch, path, 'HEAD'];
  await git(['-C', top, ...noHooks, 'worktree', 'add', '--quiet', ...add]);
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

// ---- finish -------------------------------------------------------------------------------------

/**
 * Commits every change the run left (added, modified, deleted, renamed; ignored files excepted) on
 * its branch and returns the changed paths, relative to the repository's top, sorted. Nothing
 * changed: no commit. The worktree stays for the user to inspect.
 *
 * The commit is authored by "Gantry", not by the user's configured identity: the agent made the
 * change, the commit should say so, and the user's signing key or identity should not vouch for
 * it (they adopt the work when they merge or amend). Signing is off, as it may prompt.
 * Fails with `worktree_failed` (the run's work is then still in the worktree, uncommitted).
 */
export async function finishWorktree(
  worktree: { path: string; branch: string; repo: string; base?: string },
  assignmentId: string,
): Promise<string[]> {
  try {
    return await commitChanges(worktree, assignmentId);
  } catch (err) {
    throw worktreeFailed(
      `could not commit the changes of ${assignmentId} on ${worktree.branch} (they are still in ${worktree.path}): ${(err as Error).message}`,
    );
  }
}

async function commitChanges(
  worktree: { path: string; base?: string },
  assignmentId: string,
): Promise<string[]> {
  const { path } = worktree;
  const pending = await pendingChanges(path);
  if (pending.length > 0) {
    await git(['-C', path, 'add', '-A']);
    await git([
      '-C',
      path,
      ...noHooks,
      ...gitIdentity,
      'commit',
      '--quiet',
      '--no-verify',
      '--no-gpg-sign',
      '-m',
      `gantry: ${assignmentId}`,
    ]);
  }
  // Since the base, so that commits the agent made itself are counted too.
  const changed = worktree.base
    ? splitZ(await git(['-C', path, 'diff', '--name-only', '--no-renames', '-z', worktree.base, 'HEAD']))
    : pending;
  return [...new Set(changed)].sort();
}

async function pendingChanges(path: string): Promise<string[]> {
  return parseStatus(await git(['-C', path, 'status', '--porcelain', '-z', '--untracked-files=all']));
}

/** Paths of `git status --porcelain -z`: `XY path`, and for a rename the old path in the next field. */
function parseStatus(out: string): string[] {
  const fields = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (!field) continue;
    const xy = field.slice(0, 2);
    paths.push(field.slice(3));
    if (/[RC]/.test(xy)) {
      const from = fields[++i];
      // A renamed file is gone from its old path; a copied one is not.
      if (from && xy.includes('R')) paths.push(from);
    }
  }
  return paths;
}

// ---- list ---------------------------------------------------------------------------------------

/**
 * Every worktree folder under `root`, as git knows it: each `<repo>-<hash>` group is asked through
 * one of its worktrees for the repository's `git worktree list`. A folder git does not know (its
 * repository moved or was deleted) is listed as stale.
 */
/**
 * The gantry worktree a folder is in, if it is one under `root` (a continuation runs in the
 * worktree of the conversation it continues, and its changes go on that worktree's branch).
 */
export async function worktreeAt(
  dir: string,
  root: string,
): Promise<{ path: string; branch: string; repo: string } | undefined> {
  const real = realOr(dir);
  if (!real.startsWith(`${realOr(root)}${sep}`)) return undefined;
  try {
    const path = (await git(['-C', real, 'rev-parse', '--show-toplevel'])).trim();
    const branch = (await git(['-C', path, 'rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    const common = (
      await git(['-C', path, 'rev-parse', '--path-format=absolute', '--git-common-dir'])
    ).trim();
    return branch.startsWith('gantry/') ? { path, branch, repo: dirname(common) } : undefined;
  } catch {
    return undefined;
  }
}

function realOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export async function listWorktrees(root: string): Promise<ListedWorktree[]> {
  if (!existsSync(root)) return [];
  const listed: ListedWorktree[] = [];
  const top = realpathSync(root);
  for (const group of subfolders(top)) {
    const folders = subfolders(group);
    const repo = await repositoryOfGroup(group, folders);
    for (const path of folders) {
      const known = repo?.worktrees.find((w) => w.path === path);
      const entry = { assignmentId: basename(path), path };
      if (!repo || !known) {
        const unknown = { repo: linkedRepo(path), branch: null, head: null, changed: false, locked: false };
        listed.push({ ...entry, ...unknown, stale: true });
        continue;
      }
      const { branch, head, locked } = known;
      const changed = (await pendingChanges(path)).length > 0;
      listed.push({ ...entry, repo: repo.top, branch, head, changed, locked, stale: false });
    }
  }
  return listed;
}

/** The repository a group's folders belong to, asked through the first folder git still knows. */
async function repositoryOfGroup(
  group: string,
  folders: string[],
): Promise<{ top: string; worktrees: GitWorktree[] } | undefined> {
  for (const folder of folders) {
    if (!existsSync(join(folder, '.git'))) continue;
    try {
      // The ceiling keeps git from walking up to a repository around the data folder.
      const worktrees = await retryingLocks(() => gitWorktrees(folder, { GIT_CEILING_DIRECTORIES: group }));
      const main = worktrees[0];
      if (main && worktrees.some((w) => w.path === folder)) return { top: main.path, worktrees };
    } catch (err) {
      // This folder's link is broken; another of the group may still work.
      if (!(err instanceof GitFailure)) throw err;
    }
  }
  return undefined;
}

/** The main checkout a worktree's `.git` file points into (`gitdir: <repo>/.git/worktrees/<name>`), if readable. */
function linkedRepo(path: string): string | null {
  try {
    const link = readFileSync(join(path, '.git'), 'utf8').match(
      /^gitdir: (.*)\/\.git\/worktrees\/[^/]+\s*$/m,
    );
    return link?.[1] ?? null;
  } catch {
    return null;
  }
}

function subfolders(path: string): string[] {
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(path, entry.name))
    .sort();
}

// ---- prune --------------------------------------------------------------------------------------

/**
 * Removes the worktrees of finished assignments, then lets git forget them. The branches stay:
 * they hold the work (`git branch -D gantry/<id>` drops one). Kept: assignments in `keep` (still
 * running), worktrees locked with `git worktree lock`, and unless `all`, worktrees with uncommitted
 * changes (a run that stopped before its commit) and stale folders (the only copy of their files).
 *
 * `keep` may be a function: it is then asked after the worktrees are listed, so that a run starting
 * meanwhile is either not listed yet or already known as running, never removed under its agent.
 */
export async function pruneWorktrees(
  root: string,
  options: { keep: ReadonlySet<string> | (() => Promise<ReadonlySet<string>>); all?: boolean },
): Promise<PruneResult> {
  const listed = await listWorktrees(root);
  const keep = typeof options.keep === 'function' ? await options.keep() : options.keep;
  const result: PruneResult = { removed: [], kept: [] };
  const repos = new Set<string>();
  for (const worktree of listed) {
    const reason = keepReason(worktree, keep, options.all === true);
    if (reason) {
      result.kept.push({ ...worktree, reason });
      continue;
    }
    const repo = worktree.repo;
    if (worktree.stale || !repo) rmSync(worktree.path, { recursive: true, force: true });
    else {
      // One --force removes a worktree with changes but, unlike two, never a locked one.
      await retryingLocks(() => git(['-C', repo, 'worktree', 'remove', '--force', worktree.path]));
      repos.add(repo);
    }
    result.removed.push(worktree);
  }
  for (const repo of repos) await retryingLocks(() => git(['-C', repo, 'worktree', 'prune']));
  removeEmptyGroups(root);
  return result;
}

function keepReason(worktree: ListedWorktree, keep: ReadonlySet<string>, all: boolean): string | undefined {
  if (keep.has(worktree.assignmentId)) return 'its run is still going';
  if (worktree.locked) return 'locked with `git worktree lock`: unlock it to prune it';
  if (all) return undefined;
  if (worktree.stale)
    return 'git no longer knows it (its repository moved or is gone): --all deletes the folder';
  if (worktree.changed) return 'it has uncommitted changes: --all removes it anyway';
  return undefined;
}

function removeEmptyGroups(root: string): void {
  if (!existsSync(root)) return;
  for (const group of subfolders(root)) {
    if (readdirSync(group).length === 0) rmdirSync(group);
  }
}

// ---- git ----------------------------------------------------------------------------------------

interface GitWorktree {
  path: string;
  head: string | null;
  branch: string | null;
  locked: boolean;
}

async function gitWorktrees(cwd: string, env: NodeJS.ProcessEnv = {}): Promise<GitWorktree[]> {
  return parseWorktreeList(await git(['-C', cwd, 'worktree', 'list', '--porcelain', '-z'], env));
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

function splitZ(out: string): string[] {
  return out.split('\0').filter(Boolean);
}

/** A git command that failed; `stderr` tells why. */
class GitFailure extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/**
 * Variables that would point git at another repository, index or identity than the one asked
 * (a gateway started from a git hook inherits GIT_DIR, for one). Messages stay in English, as the
 * lock contention below is recognised by them; no prompt can block; `status` takes no optional lock
 * that could make the agent's own git commands fail.
 */
const redirecting =
  /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|NAMESPACE|PREFIX|AUTHOR_\w+|COMMITTER_\w+)$/;

function gitEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!redirecting.test(key)) env[key] = value;
  return { ...env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', ...extra };
}

function git(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { env: gitEnv(env), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(err);
        const lines = stderr.split('\n').filter(Boolean);
        const detail = lines.find((line) => /^(fatal|error):/.test(line)) ?? lines[0] ?? err.message;
        reject(new GitFailure(`git ${subcommand(args)}: ${detail}`, stderr));
      },
    );
  });
}

/** `worktree add` of `-C <dir> -c <setting> worktree add ...`: what failed, without paths. */
function subcommand(args: string[]): string {
  const rest = args.filter((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-C' && args[i - 1] !== '-c');
  return rest.slice(0, rest[0] === 'worktree' ? 2 : 1).join(' ');
}

async function hasBranch(top: string, branch: string): Promise<boolean> {
  try {
    await git(['-C', top, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
    return true;
  } catch (err) {
    if (err instanceof GitFailure) return false;
    throw err;
  }
}

/**
 * Another git command at work on the repository at that moment: holding one of its lock files
 * (index, ref, config), or half-way through writing a worktree's admin folder that this one reads.
 */
const lockContention =
  /\.lock'?: File exists|Unable to create '[^']*\.lock'|cannot lock ref|could not lock config file|failed to read .*worktrees\//i;

/** Retries `fn` for a couple of seconds while another git command is in its way. */
async function retryingLocks<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 12 || !(err instanceof GitFailure) || !lockContention.test(err.stderr)) throw err;
      await delay(25 * attempt + Math.random() * 50);
    }
  }
}

function worktreeFailed(message: string): Error & { code: 'worktree_failed' } {
  return Object.assign(new Error(message), { code: 'worktree_failed' as const });
}
