/** `gantry assign AGENT "PROMPT"`: create an assignment, and optionally wait for or follow it. */
import { randomUUID } from 'node:crypto';
import type { Assignment, CreateAssignment } from '@gantry/protocol';
import { agentAnswer, assignmentAnswer } from '@gantry/protocol/answers';
import {
  GantryError,
  idempotencyKeyHeader,
  isTerminal,
  resumeFallbacks,
  type ResumeFallback,
} from '@gantry/protocol/core';
import { HubClient } from '../client.ts';
import { parseChainMaxRuns } from '../chain-max-runs.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { ExitError, exitCodes, printJson, printLine } from '../output.ts';
import { eventLine, Progress } from '../render.ts';
import { requireText } from '../texts.ts';

export interface AssignOptions extends HubOptions {
  session?: string;
  continue?: boolean;
  resumeFallback?: string;
  timeout?: string;
  retries: string;
  wait?: string | boolean;
  follow?: boolean;
  chainMaxRuns?: string;
  idempotencyKey?: string;
  json?: boolean;
}

export async function assign(agent: string, prompt: string, options: AssignOptions): Promise<void> {
  requireText(
    prompt,
    'the prompt',
    `say what ${agent} should do, like: gantry assign ${agent} "fix the failing test"`,
  );
  const retries = Number(options.retries);
  if (!Number.isInteger(retries) || retries < 0)
    throw new ExitError(exitCodes.usage, '--retries must be a whole number');
  const waitMs = typeof options.wait === 'string' ? parseDuration(options.wait, '--wait') : undefined;
  const resumeFallback = parseResumeFallback(options.resumeFallback);
  const body: CreateAssignment = {
    agent,
    prompt,
    ...(options.session ? { sessionKey: options.session } : {}),
    mode: options.continue ? 'continue' : 'new',
    ...(resumeFallback ? { resumeFallback } : {}),
    ...(options.timeout ? { timeoutMs: parseDuration(options.timeout, '--timeout') } : {}),
    retries,
    ...(options.wait || options.follow ? { wait: true } : {}),
  };
  const chainMaxRuns = parseChainMaxRuns(options.chainMaxRuns);
  if (chainMaxRuns !== undefined) body.chainMaxRuns = chainMaxRuns;
  const client = HubClient.from(options);
  const created = await createOnce(client, body, options.idempotencyKey ?? randomUUID());
  if (!options.wait && !options.follow) {
    if (options.json) return printJson(created);
    printLine(`${created.id} queued for ${created.agent.name}`);
    printLine(`Follow it with: gantry assignments events ${created.id} --follow`);
    return;
  }
  const final = await awaitEnd(client, created, {
    follow: options.follow === true,
    json: options.json === true,
    waitMs,
  });
  report(final, options);
}

/** How long a create is retried while the hub cannot be reached (a failover, a restart). */
const createRetryMs = 60_000;

/**
 * `POST /v1/assignments` under an `Idempotency-Key`, retried with the same key while the hub
 * cannot be reached or does not answer: a hub that died after creating it answers the retry (or
 * another hub of the system does) with the same assignment, never a second one.
 */
async function createOnce(client: HubClient, body: CreateAssignment, key: string): Promise<Assignment> {
  const headers = { [idempotencyKeyHeader]: key };
  const deadline = Date.now() + createRetryMs;
  for (let tries = 0; ; tries++) {
    try {
      return await client.request('POST', '/v1/assignments', assignmentAnswer, body, { headers });
    } catch (err) {
      const name = (err as Error).name;
      const retryable =
        (err instanceof GantryError && err.code === 'unavailable') ||
        name === 'TimeoutError' ||
        name === 'AbortError';
      if (!retryable || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(4000, 250 * 2 ** tries)));
    }
  }
}

function parseResumeFallback(value: string | undefined): ResumeFallback | undefined {
  if (value === undefined) return undefined;
  const known = resumeFallbacks.find((f) => f === value);
  if (!known)
    throw new ExitError(exitCodes.usage, `--resume-fallback must be ${resumeFallbacks.join(' or ')}`);
  return known;
}

/** Follows an assignment to its end; past `waitMs` it exits 124 with what is known so far. */
export async function awaitEnd(
  client: HubClient,
  assignment: Assignment,
  options: { follow: boolean; json: boolean; waitMs?: number },
): Promise<Assignment> {
  const abort = new AbortController();
  let timedOut = false;
  const timer =
    options.waitMs === undefined
      ? undefined
      : setTimeout(() => ((timedOut = true), abort.abort()), options.waitMs);
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const progress = new Progress(!options.follow && !options.json);
  try {
    return await client.follow(assignment.id, {
      signal: abort.signal,
      onEvent: (event) => {
        if (!options.follow) return;
        if (options.json) process.stdout.write(`${JSON.stringify(event)}\n`);
        else printLine(eventLine(event));
      },
      onState: (a) => progress.set(a.state),
    });
  } catch (err) {
    // The hub went away mid-wait (killed, or its machine): the assignment goes on without this
    // wait, so say which it is and how to follow it, through this hub or another of the system.
    if (!abort.signal.aborted && err instanceof GantryError && err.code === 'unavailable')
      throw new ExitError(
        exitCodes.unreachable,
        `${err.message}; ${assignment.id} goes on without this wait: follow it with: gantry assignments events ${assignment.id} --follow (through another hub of this system: add --hub URL)`,
        assignment,
      );
    if (!abort.signal.aborted) throw err;
    const now = await client
      .request('GET', `/v1/assignments/${assignment.id}`, assignmentAnswer)
      .catch(() => assignment);
    if (isTerminal(now.state)) return now;
    const hint = `${await whyQueued(client, now)}follow it with: gantry assignments events ${now.id} --follow`;
    if (timedOut) {
      throw new ExitError(
        exitCodes.waitTimeout,
        `${now.id} is still ${now.state} after ${formatDuration(options.waitMs ?? 0)}; ${hint}`,
        now,
      );
    }
    throw new ExitError(
      exitCodes.interrupted,
      `stopped waiting; ${now.id} goes on (${now.state}); ${hint}`,
      now,
    );
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSigint);
    progress.done();
  }
}

/** What keeps a queued assignment waiting that its creator can change, as a clause; else nothing. */
async function whyQueued(client: HubClient, assignment: Assignment): Promise<string> {
  if (assignment.state !== 'queued') return '';
  const agent = await client
    .request('GET', `/v1/agents/${assignment.agent.id}`, agentAnswer)
    .catch(() => undefined);
  if (!agent) return '';
  if (agent.paused)
    return `${agent.name} is paused: it runs once resumed (gantry agents resume ${agent.name}, or gantry resume --all after stop --all); `;
  if (!agent.gateways.some((g) => g.connected))
    return agent.gateways.length === 0
      ? `no gateway serves ${agent.name}: serve it from a machine (gantry gateway run --api-key KEY ..., as agents create printed it; or gantry gateway bind --agent ${agent.name} beside a running gateway); `
      : `no gateway serving ${agent.name} is connected (${agent.gateways.map((g) => g.name).join(', ')}): start one (gantry gateway start); `;
  return '';
}

/** Prints the end of an assignment; any end but `succeeded` exits 1. */
export function report(final: Assignment, options: { follow?: boolean; json?: boolean }): void {
  if (options.json) {
    if (options.follow) process.stdout.write(`${JSON.stringify(final)}\n`);
    else printJson(final);
  } else if (options.follow) {
    printLine(
      `— ${final.id} ${final.state}${final.error ? `: ${final.error.code}: ${final.error.message}` : ''}`,
    );
  } else if (final.state === 'succeeded') {
    printLine(final.result?.output ?? '');
  }
  if (final.state !== 'succeeded') {
    const why = final.error ? `${final.error.code}: ${final.error.message}` : final.state;
    throw new ExitError(
      exitCodes.failure,
      options.follow && !options.json ? '' : `${final.id} ended ${final.state} (${why})`,
    );
  }
}
