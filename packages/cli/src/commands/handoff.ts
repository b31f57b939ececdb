/**
 * `gantry handoff AGENT "TASK"`: owned work for an agent — a task, a message asking it, and a wait
 * for its reply, with a structured result. The hub decides whether waiting makes sense (adaptive
 * wait: is the agent live?) and each request waits at most a few minutes; a longer `--timeout`
 * is several waits in a row on the same handoff.
 */
import { createInterface } from 'node:readline';
import {
  GantryError,
  handoffSchema,
  maxHandoffWaitMs,
  taskIntents,
  type CreateHandoff,
  type Handoff,
} from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { parseChainMaxRuns } from '../chain-max-runs.ts';
import { ExitError, exitCodes, printJson, printJsonLine, printLine } from '../output.ts';

export interface HandoffOptions extends HubOptions {
  intent?: string;
  timeout?: string;
  /** False with `--no-adaptive-wait`. */
  adaptiveWait: boolean;
  followUp?: boolean;
  loop?: boolean;
  maxRounds?: string;
  completionPromise?: string;
  chainMaxRuns?: string;
  json?: boolean;
}

const defaultTimeoutMs = 5 * 60_000;
const defaultMaxRounds = 5;
/** Time the hub gets beyond the wait it was asked for before this client gives up on a request. */
const requestSlackMs = 30_000;

export async function handoff(agent: string, task: string, options: HandoffOptions): Promise<void> {
  const input = parseInput(agent, task, options);
  const timeoutMs = options.timeout ? parseDuration(options.timeout, '--timeout') : defaultTimeoutMs;
  const client = HubClient.from(options);
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  let last: Handoff | undefined;
  try {
    const deadline = Date.now() + timeoutMs;
    const first = await client.request(
      'POST',
      '/v1/handoffs',
      handoffSchema,
      { ...input, waitMs: slice(deadline) },
      { timeoutMs: slice(deadline) + requestSlackMs, signal: stop.signal },
    );
    last = first;
    let result = await waitOn(client, first, deadline, stop.signal);
    last = result;
    if (options.followUp)
      result = await followUp(client, result, timeoutMs, options, stop.signal, (r) => (last = r));
    finish(result, options, timeoutMs);
  } catch (err) {
    if (!stop.signal.aborted) throw err;
    const where = last ? ` (task ${last.taskId}, thread ${last.threadId})` : '';
    throw new ExitError(
      exitCodes.interrupted,
      `stopped waiting; the handoff stays with ${agent}${where}`,
      last,
    );
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function parseInput(agent: string, task: string, options: HandoffOptions): CreateHandoff {
  const intent = taskIntents.find((i) => i === (options.intent ?? 'general'));
  if (!intent) throw new ExitError(exitCodes.usage, `--intent must be one of ${taskIntents.join(', ')}`);
  if (!options.loop && (options.maxRounds !== undefined || options.completionPromise !== undefined))
    throw new ExitError(exitCodes.usage, '--max-rounds and --completion-promise go with --loop');
  if (options.loop && options.followUp)
    throw new ExitError(exitCodes.usage, '--loop and --follow-up do not go together: pick one');
  let loop: CreateHandoff['loop'];
  if (options.loop) {
    if (!options.completionPromise)
      throw new ExitError(
        exitCodes.usage,
        '--loop needs --completion-promise TEXT (what the agent says when done)',
      );
    const maxRounds = options.maxRounds === undefined ? defaultMaxRounds : Number(options.maxRounds);
    if (!Number.isInteger(maxRounds) || maxRounds < 1 || maxRounds > 100)
      throw new ExitError(exitCodes.usage, '--max-rounds must be a whole number from 1 to 100');
    loop = { maxRounds, promise: options.completionPromise };
  }
  const chainMaxRuns = parseChainMaxRuns(options.chainMaxRuns);
  return {
    agent,
    prompt: task,
    intent,
    adaptive: options.adaptiveWait !== false,
    ...(loop ? { loop } : {}),
    ...(chainMaxRuns === undefined ? {} : { chainMaxRuns }),
  };
}

/** One request's share of what is left of the wait. */
function slice(deadline: number): number {
  return Math.max(0, Math.min(maxHandoffWaitMs, deadline - Date.now()));
}

/**
 * Asks again while the hub answers `timeout` and time is left; rides out a hub that is briefly
 * unreachable (the handoff lives in the hub's store, not in this connection).
 */
async function waitOn(
  client: HubClient,
  current: Handoff,
  deadline: number,
  signal: AbortSignal,
  after?: string,
): Promise<Handoff> {
  let result = current;
  while (result.status === 'timeout' && Date.now() < deadline) {
    const query = `wait=${slice(deadline)}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    try {
      result = await client.request(
        'GET',
        `/v1/handoffs/${encodeURIComponent(result.id)}?${query}`,
        handoffSchema,
        undefined,
        {
          timeoutMs: slice(deadline) + requestSlackMs,
          signal,
        },
      );
    } catch (err) {
      if (signal.aborted || !(err instanceof GantryError) || err.code !== 'unavailable') throw err;
      process.stderr.write(`gantry: ${err.message}; retrying\n`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
  return result;
}

/**
 * The conversation after a reply: [r]eply sends one more message in the thread and waits for the
 * answer, [n]o reply waits for the agent's next message, [e]xit (or the end of input) stops.
 * Prompts go to stderr and answers come from stdin, so it works at a terminal and from a pipe.
 */
async function followUp(
  client: HubClient,
  first: Handoff,
  timeoutMs: number,
  options: HandoffOptions,
  signal: AbortSignal,
  seen: (r: Handoff) => void,
): Promise<Handoff> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string): Promise<string | undefined> => {
    process.stderr.write(question);
    const next = await lines.next();
    return next.done ? undefined : String(next.value).trim();
  };
  let result = first;
  try {
    for (;;) {
      if (result.status !== 'replied') return result;
      show(result, options);
      const choice = (await ask('[r]eply, [e]xit, [n]o reply (wait for more)? '))?.toLowerCase();
      if (choice === undefined || choice.startsWith('e')) return result;
      const deadline = Date.now() + timeoutMs;
      if (choice.startsWith('n')) {
        result = await waitOn(client, { ...result, status: 'timeout' }, deadline, signal, result.reply?.id);
      } else if (choice.startsWith('r')) {
        const text = await ask('reply: ');
        if (!text) return result;
        result = await client.request(
          'POST',
          `/v1/handoffs/${encodeURIComponent(result.id)}/messages`,
          handoffSchema,
          { body: text, waitMs: slice(deadline) },
          { timeoutMs: slice(deadline) + requestSlackMs, signal },
        );
        result = await waitOn(client, result, deadline, signal);
      } else {
        process.stderr.write('answer r, e or n\n');
        continue;
      }
      seen(result);
    }
  } finally {
    rl.close();
  }
}

/** A reply as it comes, in follow-up mode (the last one is printed by `finish`). */
function show(result: Handoff, options: HandoffOptions): void {
  if (options.json) printJsonLine(result);
  else printLine(result.reply?.body ?? '');
}

function finish(result: Handoff, options: HandoffOptions, timeoutMs: number): void {
  const agent = result.agent.name;
  const hint = `task ${result.taskId ?? '-'}, thread ${result.threadId}: gantry messages list --thread ${result.threadId}`;
  if (options.json) {
    if (options.followUp && result.status === 'replied') return; // already printed as it came
    printJson(result);
  } else if (result.status === 'queued_not_listening') {
    printLine(
      `queued_not_listening: ${agent} is ${result.reachability}, not listening now. ` +
        `The handoff waits in its queue (${hint}).`,
    );
  } else if (result.reply && !(options.followUp && result.status === 'replied')) {
    printLine(result.reply.body);
  }
  if (result.status === 'chain_limit') {
    throw new ExitError(
      exitCodes.failure,
      `chain_limit: ${agent} was not run: this run's chain is at its limit; the person who started ` +
        `it was told and may let it go on (${hint})`,
    );
  }
  if (result.status === 'timeout') {
    throw new ExitError(
      exitCodes.waitTimeout,
      `no reply from ${agent} within ${formatDuration(timeoutMs)}; the task stays in progress (${hint})`,
    );
  }
  if (result.status === 'would_deadlock') {
    throw new ExitError(
      exitCodes.failure,
      `would_deadlock: ${result.reason ?? `${agent} cannot run while this run waits`}. Not waiting: the handoff waits in ${agent}'s queue until then (${hint})`,
    );
  }
  if (result.status === 'loop_max_rounds') {
    throw new ExitError(
      exitCodes.failure,
      `no <promise>${result.loop?.promise ?? ''}</promise> from ${agent} after ${result.rounds} rounds (${hint})`,
    );
  }
}
