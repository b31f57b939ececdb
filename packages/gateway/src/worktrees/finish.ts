/**
 * The end of a run in a worktree: its changes committed on its branch. And the worktree a
 * continuation goes back to.
 */
import { join, relative, sep } from 'node:path';
import { git, type GitPlace, type NamedRepository } from './git.ts';
import { adminFolderOf, checkLink, readRecord, realOr, worktreeFailed } from './links.ts';

export interface RunWorktree {
  path: string;
  branch: string;
  repo: string;
  /** Git's admin folder for the worktree (see `Worktree.gitDir`). */
  gitDir: string;
  base?: string;
}

const gitIdentity = ['-c', 'user.name=Gantry', '-c', 'user.email=gantry@localhost'];

/** What a finished worktree run changed: the paths, and the branch's patch against its base. */
export interface WorktreeChanges {
  changedFiles: string[];
  /** `git diff` of the branch since its base, cut at {@link patchLimit} bytes; absent when nothing changed. */
  patch?: string;
  /** Set when the patch was longer than {@link patchLimit} and was cut. */
  patchTruncated?: boolean;
}

/** The most of a run's patch the result carries (the branch itself holds all of it). */
export const patchLimit = 256 * 1024;

/**
 * Commits every change the run left (added, modified, deleted, renamed; ignored files excepted) on
 * its branch and returns the changed paths, relative to the repository's top, sorted, and the
 * branch's patch. Nothing changed: no commit. The worktree stays for the user to inspect.
 *
 * The commit is authored by "Gantry", not by the user's configured identity: the agent made the
 * change, the commit should say so, and the user's signing key or identity should not vouch for
 * it (they adopt the work when they merge or amend). Signing is off, as it may prompt.
 * Fails with `worktree_tampered` when the run rewrote the worktree's `.git` (nothing is committed),
 * else with `worktree_failed` (the run's work is then still in the worktree, uncommitted).
 */
export async function finishWorktree(worktree: RunWorktree, assignmentId: string): Promise<WorktreeChanges> {
  checkLink(worktree.path, worktree.gitDir);
  try {
    return await commitChanges(worktree, assignmentId);
  } catch (err) {
    throw worktreeFailed(
      `could not commit the changes of ${assignmentId} on ${worktree.branch} (they are still in ${worktree.path}): ${(err as Error).message}`,
    );
  }
}

async function commitChanges(worktree: RunWorktree, assignmentId: string): Promise<WorktreeChanges> {
  const place = { gitDir: worktree.gitDir, workTree: worktree.path };
  const pending = await pendingChanges(place);
  if (pending.length > 0) {
    await stageAll(place);
    await git(place, [
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
  if (!worktree.base) return { changedFiles: [...new Set(pending)].sort() };
  const since = ['--no-ext-diff', '--no-textconv', '--no-color', '--no-renames', worktree.base, 'HEAD'];
  const changedFiles = [...new Set(splitZ(await git(place, ['diff', '--name-only', '-z', ...since])))].sort();
  if (changedFiles.length === 0) return { changedFiles };
  return { changedFiles, ...cut(await git(place, ['diff', ...since]), patchLimit) };
}

/** A patch cut at a line end within `limit` bytes, saying whether it was cut. */
function cut(patch: string, limit: number): { patch: string; patchTruncated?: true } {
  if (Buffer.byteLength(patch) <= limit) return { patch };
  const head = Buffer.from(patch).subarray(0, limit).toString('utf8');
  return { patch: head.slice(0, head.lastIndexOf('\n') + 1), patchTruncated: true };
}

/**
 * `git add -A`, except that a nested repository the index already tracks is staged with
 * `update-index`: `add` would run `git status` inside it, where the run's own config and
 * attributes (a clean filter) would run as the gateway. Its new commit is still staged.
 */
async function stageAll(place: NamedRepository): Promise<void> {
  const gitlinks = splitZ(await git(place, ['ls-files', '--stage', '-z']))
    .filter((entry) => entry.startsWith('160000 '))
    .map((entry) => entry.slice(entry.indexOf('\t') + 1));
  await git(place, ['add', '-A', '--', '.', ...gitlinks.map((path) => `:(exclude,literal)${path}`)]);
  if (gitlinks.length > 0) await git(place, ['update-index', '--add', '--remove', '--', ...gitlinks]);
}

/** What `status` sees changed; a nested repository counts when its commit moved, never looked into. */
export async function pendingChanges(place: GitPlace): Promise<string[]> {
  return parseStatus(
    await git(place, ['status', '--porcelain', '-z', '--untracked-files=all', '--ignore-submodules=dirty']),
  );
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

function splitZ(out: string): string[] {
  return out.split('\0').filter(Boolean);
}

/**
 * The gantry worktree a folder is in, if it is one under `root` (a continuation runs in the
 * worktree of the conversation it continues, and its changes go on that worktree's branch). Found
 * from the folder's place under `root` and the group's record; a rewritten `.git` fails with
 * `worktree_tampered`.
 */
export async function worktreeAt(dir: string, root: string): Promise<RunWorktree | undefined> {
  const top = realOr(root);
  const [group, id] = relative(top, realOr(dir)).split(sep);
  if (!group || !id || group === '..') return undefined;
  const record = readRecord(join(top, group));
  const path = join(top, group, id);
  const gitDir = record && adminFolderOf(record.gitCommonDir, path);
  if (!record || !gitDir) return undefined;
  checkLink(path, gitDir);
  try {
    const branch = (await git({ gitDir, workTree: path }, ['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    return branch.startsWith('gantry/') ? { path, branch, repo: record.repository, gitDir } : undefined;
  } catch {
    return undefined;
  }
}
