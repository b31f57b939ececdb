/**
 * The ACP agent's process, as the SDK talks to it: its stdin and stdout as web streams of
 * newline-delimited JSON. It runs through `runLineProcess`, so a hub's run goes through its
 * supervisor and outlives the daemon: its stdin is written through the supervisor's socket and its
 * stdout read from the spool; a daemon that takes the run back reads it again from the start and
 * the conversation replays (what was sent is not sent again, `spool/spool-input.ts`). A local run
 * is on the daemon's pipes.
 */
import type { RunFailure } from '@gantry/protocol';
import type { StdinChannel } from '../spool/spool-input.ts';
import { runLineProcess } from './line-process.ts';
import { runMarker, stopRun, type StopGraces } from './process-group.ts';
import type { PermissionRequest, RunRequest } from './provider.ts';

/** Once the turn is over and its stdin closed, how long the agent gets to exit before it is stopped. */
const exitGraceMs = 3_000;

export interface AgentProcess {
  pid: number;
  /** What the SDK writes: one message a line. */
  input: WritableStream<Uint8Array>;
  /** What the agent writes, as read (paused while the outbox is past its budget). */
  output: ReadableStream<Uint8Array>;
  askPermission(request: PermissionRequest): Promise<'approved' | 'denied'>;
  /** Once the process ended and its output was read. */
  exited: Promise<Exit>;
  stderrTail(): string;
  /** Stops the whole process group (once); resolves when nothing of the run is left. */
  stop(): Promise<void>;
  /** Closes stdin, lets the agent exit on its own for a while, then stops whatever is left. */
  finish(): Promise<Exit>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The run was lost (its supervisor gone without its exit, or the gateway gone too long). */
  lost?: RunFailure;
}

/** Starts the agent (or takes back the one a spool holds); a message when it could not start. */
export async function startAgent(
  bin: string,
  request: RunRequest,
  graces: StopGraces,
): Promise<AgentProcess | string> {
  const output = lineStream();
  let tail = '';
  let pid = 0;
  let onInput: (channel: StdinChannel) => void = () => undefined;
  const opened = new Promise<StdinChannel>((resolve) => (onInput = resolve));
  const ran = runLineProcess({
    bin,
    args: request.args,
    request,
    graces,
    stdin: { asker: request, onInput },
    onSpawn: (spawned) => (pid = spawned),
    onStdout: (line) => output.push(line),
    onStderr: (line) => {
      tail = `${tail}${line}\n`.slice(-4096);
      request.emit('log', { stream: 'stderr', text: line });
    },
  });
  const exited = ran.then(
    (result): Exit =>
      result.spawned ? { code: result.code, signal: result.signal } : { code: null, signal: null },
    (err: unknown): Exit => ({ code: null, signal: null, lost: err as RunFailure }),
  );
  void exited.then(() => output.end());
  const first = await Promise.race([opened, ran]);
  if ('spawned' in first) {
    if (!first.spawned) return first.message;
    return `${bin} ended before it could be written to`;
  }
  const channel = first;

  let stopping: Promise<void> | undefined;
  const runId = request.spool?.runId ?? request.env[runMarker] ?? '';
  const stop = () => (stopping ??= stopRun({ pgid: pid, runId }, graces));
  return {
    pid,
    input: linesTo(channel),
    output: output.stream,
    askPermission: (asked) => channel.askPermission(asked),
    exited,
    stderrTail: () => tail.trim(),
    stop,
    async finish() {
      channel.end();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, exitGraceMs))]);
      await stop();
      output.end();
      return exited;
    },
  };
}

/** A web stream the agent's lines are pushed into; once the reader cancels, late lines are dropped. */
function lineStream(): { stream: ReadableStream<Uint8Array>; push(line: string): void; end(): void } {
  const encoder = new TextEncoder();
  let open = true;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => void (open = false),
  });
  return {
    stream,
    push: (line) => open && controller?.enqueue(encoder.encode(`${line}\n`)),
    end: () => {
      if (!open) return;
      open = false;
      controller?.close();
    },
  };
}

/** The SDK's writes, cut into the lines the channel takes. */
function linesTo(channel: StdinChannel): WritableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let partial = '';
  return new WritableStream<Uint8Array>({
    write(chunk) {
      partial += decoder.decode(chunk, { stream: true });
      for (let end = partial.indexOf('\n'); end >= 0; end = partial.indexOf('\n')) {
        channel.write(partial.slice(0, end));
        partial = partial.slice(end + 1);
      }
    },
  });
}
