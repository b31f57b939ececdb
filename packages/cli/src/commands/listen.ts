/**
 * `gantry listen --agent NAME --exec "CMD"`: any command becomes a live agent. With the agent's own
 * credential it waits on the agent's inbox (so the hub counts it live), runs CMD once per message
 * addressed to it, one at a time and in order, and posts CMD's output as the threaded reply.
 *
 * Nothing is lost: a message is marked read only once it is answered, and a start first takes the
 * unread mail a previous listener was handed but did not answer. Nothing is dropped silently: past
 * `--queue-size` waiting messages, a message is answered "queue full" and a `listener.queue_full`
 * event says so.
 */
import { spawn } from 'node:child_process';
import {
  agentSchema,
  GantryError,
  inboxSchema,
  maxMessageBytes,
  meSchema,
  messageSchema,
  taskSchema,
  type Message,
  type Principal,
} from '@gantry/protocol';
import * as z from 'zod';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration } from '../duration.ts';
import { ExitError, exitCodes, printJsonLine, printLine } from '../output.ts';

export interface ListenOptions extends HubOptions {
  agent: string;
  exec: string;
  queueSize: string;
  json?: boolean;
}

/** One inbox wait: well under the 300 s after which Node's fetch gives up on a silent response. */
const inboxWaitMs = 60_000;
const maxRetryMs = 30_000;
/** How much of a failed command's stderr goes into its reply. */
const stderrTailBytes = 2_000;
/** A reply leaves room for the note that it was cut. */
const maxReplyBytes = maxMessageBytes - 256;

export async function listen(options: ListenOptions): Promise<void> {
  const queueSize = Number(options.queueSize);
  if (!Number.isInteger(queueSize) || queueSize < 1)
    throw new ExitError(exitCodes.usage, '--queue-size must be a whole number of at least 1');
  const listener = new Listener(HubClient.from(options), options, queueSize);
  await listener.run();
}

class Listener {
  private readonly queue: Message[] = [];
  /** Messages taken in this run (queued, running or answered): the unread fetch and a wait may overlap. */
  private readonly taken = new Set<string>();
  private readonly stop = new AbortController();
  private wakeWorker: () => void = () => {};
  private me: Principal = { kind: 'agent', id: '', name: '', role: null };
  private hubDown = false;
  /** Replies for a full queue still being posted; waited for before exiting. */
  private readonly refusals = new Set<Promise<void>>();
  private child: ReturnType<typeof spawn> | undefined;

  constructor(
    private readonly client: HubClient,
    private readonly options: ListenOptions,
    private readonly queueSize: number,
  ) {}

  async run(): Promise<void> {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals === 1) {
        this.note(`${signal}: stopping after the current command`);
        this.stop.abort();
        this.wakeWorker();
      } else {
        // A second signal does not wait for the command.
        this.child?.kill('SIGTERM');
        process.exit(exitCodes.interrupted);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      this.me = await this.retrying(() => this.client.request('GET', '/v1/me', meSchema)).then(
        (m) => m.principal,
      );
      await this.checkIdentity();
      if (this.options.json) {
        printJsonLine({
          listening: true,
          agent: this.me.name,
          hub: this.client.url,
          queueSize: this.queueSize,
        });
      } else {
        printLine(
          `Listening as ${this.me.name} on ${this.client.url} (queue ${this.queueSize}); Ctrl-C stops after the current command.`,
        );
      }
      await Promise.all([this.fetchLoop(), this.workLoop()]);
      await Promise.all(this.refusals);
    } catch (err) {
      // Stopped while the hub was away: nothing was running, a normal end.
      if (!this.stop.signal.aborted) throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  private async checkIdentity(): Promise<void> {
    const wanted = this.options.agent;
    if (this.me.kind !== 'agent' || (this.me.name !== wanted && this.me.id !== wanted)) {
      throw new ExitError(
        exitCodes.auth,
        `listen --agent ${wanted} needs ${wanted}'s own key (GANTRY_TOKEN=<its key> or --token); ` +
          `this credential is ${this.me.kind} ${this.me.name}`,
      );
    }
    const agent = await this.client.request(
      'GET',
      `/v1/agents/${encodeURIComponent(this.me.id)}`,
      agentSchema,
    );
    if (agent.kind === 'managed') {
      this.note(
        `${agent.name} is a managed agent: its mentions also run on its gateways. A pass-through agent ` +
          'answers only here.',
      );
    }
  }

  /** Takes unread mail first (what a previous listener left), then waits for new mail, until stopped. */
  private async fetchLoop(): Promise<void> {
    let first = true;
    while (!this.stop.signal.aborted) {
      const path = first ? '/v1/inbox?limit=1000' : `/v1/inbox?wait=${inboxWaitMs}&limit=1000`;
      const inbox = await this.retrying(() =>
        this.client.request('GET', path, inboxSchema, undefined, {
          timeoutMs: inboxWaitMs + 30_000,
          signal: this.stop.signal,
        }),
      ).catch((err: unknown) => {
        if (this.stop.signal.aborted) return undefined;
        throw err;
      });
      if (!inbox) return;
      first = false;
      for (const message of inbox.messages) this.take(message);
    }
  }

  private take(message: Message): void {
    if (this.taken.has(message.id)) return;
    this.taken.add(message.id);
    if (message.author.id === this.me.id || !message.mentions.some((p) => p.id === this.me.id)) {
      void this.markRead(message);
      return;
    }
    if (this.queue.length >= this.queueSize) {
      const refusal = this.refuse(message).finally(() => this.refusals.delete(refusal));
      this.refusals.add(refusal);
      return;
    }
    this.queue.push(message);
    this.wakeWorker();
  }

  private async workLoop(): Promise<void> {
    for (;;) {
      if (this.stop.signal.aborted) return;
      const message = this.queue.shift();
      if (!message) {
        await new Promise<void>((resolve) => (this.wakeWorker = resolve));
        continue;
      }
      await this.handle(message);
    }
  }

  private async handle(message: Message): Promise<void> {
    try {
      await this.answer(message);
    } catch (err) {
      // This message stays unread (a later start takes it again); the next one goes on.
      this.note(`could not answer ${message.id}: ${(err as Error).message}`);
    }
  }

  private async answer(message: Message): Promise<void> {
    const started = Date.now();
    this.event({ event: 'started', messageId: message.id, author: message.author.name });
    const outcome = await this.runCommand(message);
    const body = outcome.code === 0 ? outcome.stdout.trimEnd() || '(no output)' : failureBody(outcome);
    const reply = await this.retrying(
      () =>
        this.client.request('POST', '/v1/messages', messageSchema, {
          body: clip(body),
          parentId: message.id,
          metadata: { listener: { exitCode: outcome.code, signal: outcome.signal } },
        }),
      true,
    );
    await this.markRead(message);
    await this.moveTask(message, outcome.code === 0);
    const took = formatDuration(Date.now() - started);
    if (this.options.json) {
      printJsonLine({
        event: 'replied',
        messageId: message.id,
        replyId: reply.id,
        exitCode: outcome.code,
        ms: Date.now() - started,
      });
    } else {
      const how = outcome.code === 0 ? 'ok' : `failed (${describe(outcome)})`;
      printLine(`${message.id} from ${message.author.name}: ${how} in ${took}, replied ${reply.id}`);
    }
  }

  /** CMD through /bin/sh with the message as its last argument; stdin closed, in its own process group. */
  private runCommand(message: Message): Promise<Outcome> {
    const taskId = typeof message.metadata.taskId === 'string' ? message.metadata.taskId : undefined;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GANTRY_MENTION_CONTENT: message.body,
      GANTRY_MENTION_ID: message.id,
      GANTRY_MENTION_AUTHOR: message.author.name,
      GANTRY_THREAD_ID: message.threadId,
      GANTRY_AGENT_NAME: this.me.name,
      ...(taskId ? { GANTRY_TASK_ID: taskId } : {}),
    };
    return new Promise((resolve) => {
      // Its own process group: a Ctrl-C at the terminal stops the listener, not the running command.
      const child = spawn('/bin/sh', ['-c', `${this.options.exec} "$@"`, 'gantry-listen', message.body], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      this.child = child;
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length <= maxReplyBytes) stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-stderrTailBytes);
      });
      child.once('error', (err) => {
        this.child = undefined;
        resolve({ code: 127, signal: null, stdout, stderr: `${stderr}${err.message}` });
      });
      child.once('close', (code, signal) => {
        this.child = undefined;
        resolve({ code: code ?? 128, signal, stdout, stderr });
      });
    });
  }

  /** The queue is full: the sender hears it in the thread and the workspace in its activity log. */
  private async refuse(message: Message): Promise<void> {
    const text =
      `${this.me.name} is busy: its listener's queue is full (${this.queueSize} waiting). ` +
      'This message was not run; send it again later.';
    this.note(`queue full (${this.queueSize}): refused ${message.id} from ${message.author.name}`);
    await this.retrying(
      () =>
        this.client.request('POST', '/v1/events', z.unknown(), {
          type: 'listener.queue_full',
          subject: message.id,
          data: { messageId: message.id, agent: this.me.name, queueSize: this.queueSize },
        }),
      true,
    );
    await this.retrying(
      () =>
        this.client.request('POST', '/v1/messages', messageSchema, {
          body: text,
          parentId: message.id,
          metadata: { listener: { queueFull: true } },
        }),
      true,
    );
    await this.markRead(message);
    this.event({ event: 'queue_full', messageId: message.id });
  }

  private async markRead(message: Message): Promise<void> {
    await this.retrying(
      () => this.client.request('POST', `/v1/messages/${encodeURIComponent(message.id)}/read`, messageSchema),
      true,
    ).catch((err: unknown) => this.note(`could not mark ${message.id} read: ${(err as Error).message}`));
  }

  /** A task's message answered here moves the task the way a managed agent's run would. */
  private async moveTask(message: Message, ok: boolean): Promise<void> {
    const taskId = typeof message.metadata.taskId === 'string' ? message.metadata.taskId : undefined;
    if (!taskId) return;
    try {
      const task = await this.client.request('GET', `/v1/tasks/${encodeURIComponent(taskId)}`, taskSchema);
      if (task.assignee?.id !== this.me.id || !['open', 'in_progress'].includes(task.status)) return;
      await this.client.request('PATCH', `/v1/tasks/${encodeURIComponent(taskId)}`, taskSchema, {
        status: ok ? 'done' : 'blocked',
      });
    } catch (err) {
      this.note(`could not update task ${taskId}: ${(err as Error).message}`);
    }
  }

  /**
   * Runs `fn` until it gets through, saying once when the hub is unreachable and once when it is
   * back. Other errors are the caller's; `evenStopping` keeps trying after a stop (an answer to post).
   */
  private async retrying<T>(fn: () => Promise<T>, evenStopping = false): Promise<T> {
    let delay = 1_000;
    for (;;) {
      try {
        const value = await fn();
        if (this.hubDown) {
          this.hubDown = false;
          this.note(`the hub at ${this.client.url} is reachable again`);
        }
        return value;
      } catch (err) {
        if (!(err instanceof GantryError) || err.code !== 'unavailable') throw err;
        if (this.stop.signal.aborted && !evenStopping) throw err;
        if (!this.hubDown) {
          this.hubDown = true;
          this.note(`${err.message}; retrying`);
        }
        await pause(delay, evenStopping ? undefined : this.stop.signal);
        delay = Math.min(maxRetryMs, delay * 2);
      }
    }
  }

  private note(text: string): void {
    process.stderr.write(`gantry listen: ${text}\n`);
  }

  private event(value: Record<string, unknown>): void {
    if (this.options.json) printJsonLine(value);
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface Outcome {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function describe(o: Outcome): string {
  return o.signal ? `killed by ${o.signal}` : `exit ${o.code}`;
}

function failureBody(o: Outcome): string {
  const tail = o.stderr.trim();
  return `The command failed (${describe(o)})${tail ? `:\n${tail}` : '.'}`;
}

function clip(text: string): string {
  if (Buffer.byteLength(text) <= maxReplyBytes) return text;
  return `${Buffer.from(text)
    .subarray(0, maxReplyBytes)
    .toString()
    .replace(/\uFFFD$/, '')}\n[output cut at ${maxReplyBytes} bytes]`;
}
