/**
 * One provider run, whoever asked for it (the hub or the local API): the workdir, the agent's
 * token file (0600, removed after), the continuation's resume id, the run's environment, and the
 * provider's session id saved for next time.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OfferedAssignment } from '@gantry/protocol';
import { writeSecretFile } from './files.ts';
import { allowlistedEnv } from './providers/environment.ts';
import { runMarker } from './providers/process-group.ts';
import type { Provider, RunOutcome } from './providers/provider.ts';
import type { GatewaySession } from './session-file.ts';
import type { GatewayDb } from './state/gateway-db.ts';

export interface Job {
  offer: OfferedAssignment;
  /** Marks every process of the run (`GANTRY_RUN_ID`), for stopping those that leave its group. */
  runId: string;
  workdir: string;
  provider: Provider;
  args: string[];
}

export interface JobIo {
  signal: AbortSignal;
  emit(type: string, data: Record<string, unknown>): void;
  room(): Promise<void> | undefined;
  onSpawn?(pid: number): void;
}

export async function runProvider(
  job: Job,
  context: { db: GatewayDb; session: GatewaySession; runDir: string },
  io: JobIo,
): Promise<RunOutcome> {
  const { offer } = job;
  const tokenFile = join(context.runDir, `${job.runId.replace(/[^\w.-]/g, '_')}.token`);
  try {
    mkdirSync(job.workdir, { recursive: true });
    const key = context.session.agents.find((a) => a.id === offer.agentId)?.key;
    if (key) writeSecretFile(tokenFile, `${key}\n`);
    const resume =
      offer.mode === 'continue' ? context.db.resumeId(offer.agentId, offer.sessionKey) : undefined;
    if (offer.mode === 'continue' && !resume) {
      io.emit('status', { message: `no earlier session for key '${offer.sessionKey}'; starting a new one` });
    }
    const env = {
      ...allowlistedEnv(),
      GANTRY_PROMPT: offer.prompt,
      GANTRY_ASSIGNMENT_ID: offer.id,
      GANTRY_ATTEMPT: String(offer.attempt),
      [runMarker]: job.runId,
      GANTRY_AGENT_ID: offer.agentId,
      GANTRY_AGENT_NAME: offer.agentName,
      GANTRY_WORKDIR: job.workdir,
      GANTRY_SESSION_KEY: offer.sessionKey,
      GANTRY_HUB_URL: context.session.serverUrl,
      ...(key ? { GANTRY_TOKEN_FILE: tokenFile } : {}),
      ...(resume ? { GANTRY_RESUME_ID: resume.resumeId } : {}),
    };
    const outcome = await job.provider.run(
      {
        assignment: offer,
        workdir: job.workdir,
        env,
        args: job.args,
        ...(resume ? { resumeId: resume.resumeId } : {}),
        signal: io.signal,
        emit: io.emit,
        room: io.room,
      },
      io.onSpawn,
    );
    if (outcome.sessionId) {
      context.db.saveResumeId(
        offer.agentId,
        offer.sessionKey,
        job.provider.name,
        outcome.sessionId,
        job.workdir,
      );
    }
    return outcome;
  } catch (err) {
    return {
      status: 'failed',
      output: '',
      exitCode: null,
      error: { code: 'spawn_failed', message: (err as Error).message },
    };
  } finally {
    rmSync(tokenFile, { force: true });
  }
}
