/**
 * Where a run works and what it continues: the bound workdir, or with `--isolation worktree` a
 * git worktree of its own (committed on its branch when it ends); for `mode: continue`, the
 * provider session saved for the agent and session key, and the workdir that session ran in.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { defaultSessionKey, RunFailure, type EmitEvent } from '@gantry/protocol';
import type { RunOutcome } from './providers/provider.ts';
import type { Job } from './run-provider.ts';
import { finishWorktree, prepareWorktree, worktreeAt, type RunWorktree } from './worktrees/index.ts';

/**
 * Where the run works: its conversation's workdir for a continuation, else the bound workdir; with
 * `--isolation worktree` a new worktree of the assignment (a continuation stays in its own).
 */
export async function placeRun(
  job: Job,
  resume: { workdir: string } | undefined,
  worktreeDir: string,
  emit: EmitEvent,
): Promise<{ workdir: string; worktree?: RunWorktree }> {
  if (job.settings.isolation !== 'worktree') {
    const workdir = resume?.workdir ?? job.workdir;
    mkdirSync(workdir, { recursive: true, mode: 0o700 });
    return { workdir };
  }
  if (resume) {
    const worktree = await worktreeAt(resume.workdir, worktreeDir);
    return { workdir: resume.workdir, ...(worktree ? { worktree } : {}) };
  }
  const made = await prepareWorktree({ repo: job.workdir, assignmentId: job.offer.id, root: worktreeDir });
  emit('status', {
    message: `${made.reused ? 'continuing the worktree of an earlier attempt' : 'running in worktree'} ${made.path} on branch ${made.branch}`,
  });
  return { workdir: made.workdir, worktree: made };
}

/**
 * Commits the run's changes on its worktree branch; a failure to commit is told, not made the run's
 * failure. A run that rewrote its worktree's `.git` fails: nothing of it is committed.
 */
export async function committed(
  worktree: RunWorktree,
  assignmentId: string,
  outcome: RunOutcome,
  emit: EmitEvent,
): Promise<RunOutcome> {
  try {
    const changes = await finishWorktree(worktree, assignmentId);
    return { ...outcome, details: { ...outcome.details, branch: worktree.branch, ...changes } };
  } catch (err) {
    const { message } = err as Error;
    const details = { ...outcome.details, branch: worktree.branch };
    if (err instanceof RunFailure && err.code === 'worktree_tampered') {
      return { ...outcome, status: 'failed', details, error: { code: 'worktree_tampered', message } };
    }
    emit('error', { code: 'worktree_failed', message });
    return { ...outcome, details };
  }
}

/**
 * What a run continues: for `continue`, the provider session saved for (agent, session key) and
 * the workdir it ran in; for `new` nothing (saying so when it replaces one). A continuation whose
 * session was made by another provider, or whose workdir is gone, starts fresh and says so.
 */
export function continuation(
  job: Job,
  saved: { resumeId: string; workdir: string; provider: string } | undefined,
  emit: EmitEvent,
): { resumeId: string; workdir: string } | undefined {
  const key = job.offer.sessionKey;
  if (job.offer.mode === 'new') {
    // Every plain `gantry assign` uses the `default` key: only a named conversation is worth the note.
    if (saved && key !== defaultSessionKey)
      emit('status', {
        message: `starting a new conversation for session key '${key}' (the earlier one is not continued)`,
      });
    return undefined;
  }
  if (!saved) {
    emit('status', { message: `no earlier session for key '${key}'; starting a new one` });
    return undefined;
  }
  if (saved.provider !== job.provider.name) {
    emit('status', {
      message: `the session for key '${key}' was made by ${saved.provider}, not ${job.provider.name}; starting a new one`,
    });
    return undefined;
  }
  if (!existsSync(saved.workdir)) {
    const gone = `the workdir of session '${key}' (${saved.workdir}) is gone`;
    if (job.offer.resumeFallback !== 'new') throw new RunFailure('resume_failed', `cannot resume: ${gone}`);
    emit('status', { message: `${gone}; starting a new conversation as the assignment asked` });
    return undefined;
  }
  return { resumeId: saved.resumeId, workdir: saved.workdir };
}
