/**
 * The `shell` tool of Gantry's own agent loop (the ollama provider): the schema its model sees, and
 * one command run with `/bin/sh -c` in the workdir, in its own process group, stopped with the run.
 * The output kept is bounded (its head and its tail), so a noisy command cannot flood the model.
 */
import { runLineProcess } from './line-process.ts';
import type { StopGraces } from './process-group.ts';
import type { RunRequest } from './provider.ts';

export const shellToolName = 'shell';

/** The tool as Ollama's (and OpenAI's) function-calling schema describes it. */
export const shellToolSchema = {
  type: 'function',
  function: {
    name: shellToolName,
    description:
      'Run a shell command (/bin/sh -c) in the working directory and get its exit code and output ' +
      '(stdout and stderr together). No input can be typed into it; long-running commands are stopped.',
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command line to run, e.g. `ls -la` or `npm test`.' },
      },
      required: ['command'],
    },
  },
} as const;

/** A command that outlives this (a server, a watcher) is stopped and the model told so. */
const commandTimeoutMs = 10 * 60_000;
/** Characters of output kept from the start and from the end of a command's output. */
const keptChars = 8_000;

export interface ShellResult {
  status: 'completed' | 'failed' | 'cancelled';
  exitCode: number | null;
  durationMs: number;
  /** stdout and stderr as they came, cut in the middle when long. */
  output: string;
  /** How it ended, in words, when not with exit code 0 (for the model). */
  note?: string;
}

export async function runShell(
  command: string,
  request: Pick<RunRequest, 'workdir' | 'env' | 'signal'>,
  graces: StopGraces,
  onSpawn?: (pid: number) => void,
): Promise<ShellResult> {
  const started = Date.now();
  const output = new BoundedText(keptChars);
  const timeout = AbortSignal.timeout(commandTimeoutMs);
  const exit = await runLineProcess({
    bin: '/bin/sh',
    args: ['-c', command],
    // Only a tail of the output goes to the outbox (in tool_finished), so reading never waits for room.
    request: {
      workdir: request.workdir,
      env: request.env,
      signal: AbortSignal.any([request.signal, timeout]),
      room: () => undefined,
    },
    graces,
    onStdout: (line) => output.add(line),
    onStderr: (line) => output.add(line),
    ...(onSpawn ? { onSpawn } : {}),
  });
  const durationMs = Date.now() - started;
  if (!exit.spawned) return { status: 'failed', exitCode: null, durationMs, output: '', note: exit.message };
  const base = { exitCode: exit.code, durationMs, output: output.text() };
  if (exit.stopped && request.signal.aborted)
    return { ...base, status: 'cancelled', note: 'stopped: the run was cancelled' };
  if (exit.stopped)
    return { ...base, status: 'failed', note: `stopped after ${commandTimeoutMs / 60_000} minutes` };
  if (exit.code === 0) return { ...base, status: 'completed' };
  const how = exit.code === null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  return { ...base, status: 'failed', note: how };
}

/** Keeps the first and the last `half` characters of what is added, and counts what falls between. */
class BoundedText {
  private head = '';
  private end = '';
  private dropped = 0;

  constructor(private readonly half: number) {}

  add(line: string): void {
    let text = `${line}\n`;
    if (this.head.length < this.half) {
      const room = this.half - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (!text) return;
    this.end += text;
    if (this.end.length > this.half) {
      this.dropped += this.end.length - this.half;
      this.end = this.end.slice(-this.half);
    }
  }

  text(): string {
    const whole = this.dropped
      ? `${this.head}\n… (${this.dropped} characters cut) …\n${this.end}`
      : this.head + this.end;
    return whole.replace(/\n$/, '');
  }
}
