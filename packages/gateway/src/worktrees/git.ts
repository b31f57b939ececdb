/**
 * The one way the gateway (and the CLI's `gateway worktrees`) runs git. A run controls the files
 * of its worktree, `.git` included: discovering the repository from there would let it point git at
 * a repository it made, whose config (`core.fsmonitor`, `core.pager`, `diff.external`, `filter.*`)
 * git then executes as the gateway. So every command names its repository: `--git-dir` (and
 * `--work-tree`) the gateway recorded, or, only for the folder a user bound, discovery from there.
 */
import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

/** A repository named by its git folder (and the work tree to use), never discovered. */
export interface NamedRepository {
  gitDir: string;
  workTree?: string;
}

/** Where a command works: a git folder the gateway knows, or a folder the user chose (discovered from). */
export type GitPlace = NamedRepository | { userFolder: string };

/**
 * Settings that run a program, switched off whatever config says. They reach git's child processes
 * too (through GIT_CONFIG_PARAMETERS). Hooks also block or prompt; gantry's calls need none of them.
 */
const hardening = [
  ['core.fsmonitor', 'false'],
  ['core.hooksPath', '/dev/null'],
  ['core.pager', 'cat'],
  // A submodule's own git commands would discover its repository from a `.git` the run wrote
  // (see `stageAll` and `pendingChanges` for the commands that would look inside one).
  ['submodule.recurse', 'false'],
].flatMap(([key, value]) => ['-c', `${key}=${value}`]);

/** The arguments before the subcommand: hardening, then the repository named or the folder to discover from. */
export function gitPrefix(place: GitPlace): string[] {
  if ('userFolder' in place) return [...hardening, '-C', place.userFolder];
  return [
    ...hardening,
    `--git-dir=${place.gitDir}`,
    ...(place.workTree ? [`--work-tree=${place.workTree}`] : []),
  ];
}

/**
 * Variables that would point git at another repository, index, identity or program than the one
 * asked (a gateway started from a git hook inherits GIT_DIR, for one). Messages stay in English, as
 * the lock contention below is recognised by them; no prompt can block; `status` takes no optional
 * lock that could make the agent's own git commands fail; system config is not read.
 */
const redirecting =
  /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|NAMESPACE|PREFIX|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|EXTERNAL_DIFF|PAGER|AUTHOR_\w+|COMMITTER_\w+)$/;

export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Gantry's own variables (GANTRY_API_KEY, GANTRY_TOKEN) are no business of git or of a filter it runs.
  for (const [key, value] of Object.entries(process.env))
    if (!redirecting.test(key) && !key.startsWith('GANTRY_')) env[key] = value;
  return {
    ...env,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PAGER: 'cat',
  };
}

/** A git command that failed; `stderr` tells why. */
export class GitFailure extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Runs `git <hardening> <place> <args>` and returns its stdout; rejects with a GitFailure (ENOENT: no git). */
export function git(place: GitPlace, args: string[]): Promise<string> {
  // With --git-dir and no --work-tree git takes the current folder as the work tree: the git folder it is.
  const cwd = 'userFolder' in place ? undefined : (place.workTree ?? place.gitDir);
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...gitPrefix(place), ...args],
      { env: gitEnv(), cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(err);
        // `commit` tells some refusals on stdout only.
        const lines = `${stderr}\n${stdout}`.split('\n').filter(Boolean);
        const detail = lines.find((line) => /^(fatal|error):/.test(line)) ?? lines[0] ?? err.message;
        reject(new GitFailure(`git ${subcommand(args)}: ${detail}`, stderr));
      },
    );
  });
}

/** `worktree add` of `worktree add --quiet ...`, `commit` of `-c x=y commit ...`: what failed, without paths. */
function subcommand(args: string[]): string {
  const rest = args.filter((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-c');
  return rest.slice(0, rest[0] === 'worktree' ? 2 : 1).join(' ');
}

/**
 * Another git command at work on the repository at that moment: holding one of its lock files
 * (index, ref, config), or half-way through writing a worktree's admin folder that this one reads.
 */
const lockContention =
  /\.lock'?: File exists|Unable to create '[^']*\.lock'|cannot lock ref|could not lock config file|failed to read .*worktrees\//i;

/** Retries `fn` for a couple of seconds while another git command is in its way. */
export async function retryingLocks<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 12 || !(err instanceof GitFailure) || !lockContention.test(err.stderr)) throw err;
      await delay(25 * attempt + Math.random() * 50);
    }
  }
}
