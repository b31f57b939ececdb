/**
 * One provider run, whoever asked for it (the hub or the local API): the workdir (or its own git
 * worktree), the run token's file (0600, removed after; the agent's own key never reaches a run), the continuation's resume id, the run's
 * environment, and the provider's session id saved for next time.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failureCodeOf, Redactor, type EmitEvent, type OfferedAssignment } from '@gantry/protocol';
import { writeSecretFile } from '@gantry/protocol/node';
import { allowlistedEnv, secretValuesOf } from './providers/environment.ts';
import { runMarker } from './providers/process-group.ts';
import {
  unavailable,
  type PermissionRequest,
  type Provider,
  type ProviderCheck,
  type RunOutcome,
} from './providers/provider.ts';
import type { ProviderSettings } from './providers/settings.ts';
import type { GatewaySession } from './session-file.ts';
import type { Spool, SpoolJob } from './spool/run-spool.ts';
import type { GatewayDb } from './state/gateway-db.ts';
import { committed, continuation, placeRun } from './run-workdir.ts';
import { worktreeAt, type RunWorktree } from './worktrees/index.ts';

export interface Job {
  offer: OfferedAssignment;
  /** Marks every process of the run (`GANTRY_RUN_ID`), for stopping those that leave its group. */
  runId: string;
  workdir: string;
  provider: Provider;
  args: string[];
  settings: ProviderSettings;
  /** The hub's token for this run (`gnt_r_`, DESIGN §6a), handed to it as GANTRY_TOKEN_FILE. */
  runToken?: string;
}

export interface JobIo {
  signal: AbortSignal;
  emit: EmitEvent;
  room(): Promise<void> | undefined;
  requestPermission(request: PermissionRequest): Promise<'approved' | 'denied'>;
  onSpawn?(pid: number): void;
  /** A hub's run goes through the spool (it outlives the daemon); local runs stay on pipes. */
  spool?: JobSpool;
}

/** What the runner tells of a hub's run for its spool. */
export interface JobSpool {
  spool: Spool;
  /** The hub's gateway id for this machine. */
  hub: string;
  /** The hub's lease + grace. */
  goneMs: number;
  /** Aborted on a handover. */
  leave: AbortSignal;
  startedAt: number;
  /** The last event number emitted so far. */
  seq(): number;
  /** Take back the run this job describes (after a restart) instead of starting one. */
  attach?: SpoolJob;
}

export interface JobContext {
  db: GatewayDb;
  session: GatewaySession;
  runDir: string;
  worktreeDir: string;
  /**
   * The URL of the hub system the gateway is connected to now (after a failover, another of
   * `--hub URL1,URL2`): a run's GANTRY_HUB_URL is this at its spawn. Unset: the session's first URL.
   */
  hubUrl?: () => string;
}

/**
 * What a run needs that the hub's `start` does not change: the provider's check and the run's
 * environment from the gateway's own (with the secret values in it). A hub's run makes it while
 * the hub answers its `starting` (`prepareRun`), so the spawn does not wait for it after `start`.
 */
interface RunPrep {
  check: Promise<ProviderCheck>;
  env: Record<string, string>;
  secrets: string[];
}

const preps = new WeakMap<Job, RunPrep>();

/** Makes the job's `RunPrep` once (a second call, or the run itself, takes the same). */
export function prepareRun(job: Job): RunPrep {
  let prep = preps.get(job);
  if (!prep) {
    const pass = job.settings.envPass ?? [];
    const env = allowlistedEnv(job.provider.envFamilies, pass);
    const check = job.provider.check();
    // Awaited by the run; a job dropped before it starts must not leave a rejection unheard.
    check.catch(() => undefined);
    prep = { check, env, secrets: secretValuesOf(env, pass) };
    preps.set(job, prep);
  }
  return prep;
}

/**
 * Runs the job with every event and the result masked for secrets (DESIGN §5: none leaves in
 * output): the well-known key shapes, the secret values its environment carries, and the secret
 * half of each token this gateway holds (printed on its own, it has no telling shape).
 */
export async function runProvider(job: Job, context: JobContext, io: JobIo): Promise<RunOutcome> {
  const mask = new Redactor(
    [
      ...prepareRun(job).secrets,
      ...[context.session.gatewayToken, ...context.session.agents.map((a) => a.key)].map(secretOf),
      ...(job.runToken ? [secretOf(job.runToken)] : []),
    ],
    { stream: true },
  );
  const emit: EmitEvent = (type, data) => io.emit(type, mask.deep(data));
  // A permission request's input (a command line) becomes an event and an approval on the hub.
  const requestPermission: JobIo['requestPermission'] = (request) => io.requestPermission(mask.deep(request));
  const outcome = await runJob(job, context, { ...io, emit, requestPermission });
  return mask.deep(outcome);
}

/** The secret half of a Gantry token (`gnt_x_<id>.<secret>`). */
function secretOf(token: string): string {
  return token.slice(token.indexOf('.') + 1);
}

async function runJob(job: Job, context: JobContext, io: JobIo): Promise<RunOutcome> {
  if (io.spool?.attach) return takeBack(job, context, io, io.spool, io.spool.attach);
  const { offer } = job;
  const tokenFile = join(context.runDir, `${job.runId.replace(/[^\w.-]/g, '_')}.token`);
  try {
    const prep = prepareRun(job);
    const check = await prep.check;
    if (!check.ok) return unavailable(`${job.provider.name} cannot run here: ${check.detail}`);
    const saved = context.db.resumeId(offer.agentId, offer.sessionKey);
    const resume = continuation(job, saved, io.emit);
    const { workdir, worktree } = await placeRun(job, resume, context.worktreeDir, io.emit);
    const key = job.runToken;
    if (key) writeSecretFile(tokenFile, `${key}\n`);
    const env = {
      ...prep.env,
      GANTRY_PROMPT: offer.prompt,
      GANTRY_ASSIGNMENT_ID: offer.id,
      GANTRY_ATTEMPT: String(offer.attempt),
      [runMarker]: job.runId,
      GANTRY_AGENT_ID: offer.agentId,
      GANTRY_AGENT_NAME: offer.agentName,
      GANTRY_WORKDIR: workdir,
      GANTRY_SESSION_KEY: offer.sessionKey,
      // A task's run (a task assigned to the agent, a handoff and each round of its loop) knows it.
      ...(offer.sessionKey.startsWith('task:')
        ? { GANTRY_TASK_ID: offer.sessionKey.slice('task:'.length) }
        : {}),
      GANTRY_HUB_URL: context.hubUrl?.() ?? context.session.serverUrl,
      ...(key ? { GANTRY_TOKEN_FILE: tokenFile } : {}),
    };
    const spooled = io.spool;
    let resumed: string | undefined;
    const spool = spooled?.spool.forRun(job.runId, spooled.goneMs, spooled.leave, () => ({
      runId: job.runId,
      hub: spooled.hub,
      assignmentId: offer.id,
      attempt: offer.attempt,
      agentId: offer.agentId,
      provider: job.provider.name,
      offer,
      seq: spooled.seq(),
      startedAt: spooled.startedAt,
      workdir,
      worktree: worktree !== undefined,
      ...(key ? { tokenFile } : {}),
      goneMs: spooled.goneMs,
      ...(resumed ? { resumeId: resumed } : {}),
    }));
    const run = (resumeId: string | undefined) => {
      resumed = resumeId;
      return job.provider.run(
        {
          assignment: offer,
          workdir,
          env: resumeId ? { ...env, GANTRY_RESUME_ID: resumeId } : env,
          args: job.args,
          settings: job.settings,
          ...(resumeId ? { resumeId } : {}),
          signal: io.signal,
          emit: io.emit,
          requestPermission: io.requestPermission,
          room: io.room,
          ...(spool ? { spool } : {}),
          checked: check,
        },
        io.onSpawn,
      );
    };
    let outcome = await run(resume?.resumeId);
    if (
      resume &&
      outcome.error?.code === 'resume_failed' &&
      offer.resumeFallback === 'new' &&
      !io.signal.aborted
    ) {
      io.emit('status', {
        message: `could not resume session ${resume.resumeId} (${outcome.error.message}); starting a new conversation as the assignment asked`,
      });
      outcome = await run(undefined);
    }
    return await finished(job, context, io, outcome, workdir, worktree);
  } catch (err) {
    return thrown(err);
  } finally {
    rmSync(tokenFile, { force: true });
  }
}

/**
 * Takes back a run an earlier daemon spooled: its output is read again from the start (events
 * numbered on from where they were before it spawned), and it ends as `runJob` ends one.
 */
async function takeBack(
  job: Job,
  context: JobContext,
  io: JobIo,
  spooled: JobSpool,
  saved: SpoolJob,
): Promise<RunOutcome> {
  const { offer } = job;
  const { workdir } = saved;
  try {
    const outcome = await job.provider.run(
      {
        assignment: offer,
        workdir,
        env: {},
        args: job.args,
        settings: job.settings,
        ...(saved.resumeId ? { resumeId: saved.resumeId } : {}),
        signal: io.signal,
        emit: io.emit,
        requestPermission: io.requestPermission,
        room: io.room,
        spool: spooled.spool.forRun(job.runId, saved.goneMs, spooled.leave, () => saved, true),
      },
      io.onSpawn,
    );
    const worktree = saved.worktree ? await worktreeAt(workdir, context.worktreeDir) : undefined;
    return await finished(job, context, io, outcome, workdir, worktree);
  } catch (err) {
    return thrown(err);
  } finally {
    if (saved.tokenFile && !spooled.leave.aborted) rmSync(saved.tokenFile, { force: true });
  }
}

/** How a run ends, fresh or taken back: its conversation remembered, its own worktree committed. */
async function finished(
  job: Job,
  context: JobContext,
  io: JobIo,
  outcome: RunOutcome,
  workdir: string,
  worktree: RunWorktree | undefined,
): Promise<RunOutcome> {
  const { offer } = job;
  if (outcome.sessionId)
    context.db.saveResumeId(offer.agentId, offer.sessionKey, job.provider.name, outcome.sessionId, workdir);
  return worktree ? committed(worktree, offer.id, outcome, io.emit) : outcome;
}

/** A run that threw before it had an outcome: failed with the error's code (`spawn_failed` when it has none). */
function thrown(err: unknown): RunOutcome {
  return {
    status: 'failed',
    output: '',
    exitCode: null,
    error: { code: failureCodeOf(err, 'spawn_failed'), message: (err as Error).message },
  };
}

/** The run token a spooled run was given, read back from its file (to mask it again). */
export function savedRunToken(saved: SpoolJob): string | undefined {
  try {
    return saved.tokenFile ? readFileSync(saved.tokenFile, 'utf8').trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}
