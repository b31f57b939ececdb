/**
 * Runs one provider process and reads its output line by line: in its own process group, stdin
 * closed (unless asked for), stopped with the whole group when the run is aborted, reading paused
 * while the outbox is past its budget. Every CLI provider (generic, codex, claude-code) runs
 * through here and only says what a line means. A hub's run comes with a spool: it then runs
 * through a supervisor that outlives the daemon and its lines are read from the spool
 * (`spool/spooled-process.ts`); a protocol over stdin is written through the supervisor too.
 */
import { createInterface, type Interface } from 'node:readline';
import { runMarker, spawnGroup, stopRun, type StopGraces } from './process-group.ts';
import type { RunRequest } from './provider.ts';
import { runSpooled } from '../spool/spooled-process.ts';
import { pipeInput, type PermissionAsker, type StdinChannel } from '../spool/spool-input.ts';

const stderrTailChars = 4096;
/** After the process exits, how long to wait for its output pipes, which a leftover child may hold open. */
const drainMs = 500;

export interface LineProcessOptions {
  bin: string;
  args: string[];
  request: Pick<RunRequest, 'workdir' | 'env' | 'signal' | 'room' | 'spool'>;
  graces: StopGraces;
  onStdout(line: string): void;
  /** Default: each stderr line becomes a `log` event. */
  onStderr?(line: string): void;
  onSpawn?(pid: number): void;
  /**
   * Keep stdin open (a protocol over stdio): `onInput` gets the channel that writes it and asks
   * permissions, once the process runs.
   */
  stdin?: { asker: PermissionAsker; onInput(input: StdinChannel): void };
}

export type LineProcessResult =
  | { spawned: false; message: string }
  | {
      spawned: true;
      pid: number;
      code: number | null;
      signal: NodeJS.Signals | null;
      /** Whether the run was stopped (aborted) before the process ended on its own. */
      stopped: boolean;
      stderrTail: string;
    };

export async function runLineProcess(options: LineProcessOptions): Promise<LineProcessResult> {
  const { request } = options;
  if (request.spool) return runSpooled(options, request.spool);
  const child = spawnGroup(options.bin, options.args, {
    cwd: request.workdir,
    env: request.env,
    ...(options.stdin ? { stdin: 'pipe' as const } : {}),
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawned || child.pid === undefined) {
    return { spawned: false, message: `could not start ${options.bin}: ${spawned?.message ?? 'no process'}` };
  }
  const pid = child.pid;
  options.onSpawn?.(pid);
  if (options.stdin && child.stdin) options.stdin.onInput(pipeInput(child.stdin, options.stdin.asker));

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= stopRun({ pgid: pid, runId: request.env[runMarker] ?? '' }, options.graces));
  const onAbort = () => void stop();
  if (request.signal.aborted) onAbort();
  request.signal.addEventListener('abort', onAbort, { once: true });

  let stderrTail = '';
  const stdout = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  stdout.on('line', (line) => options.onStdout(line));
  const stdoutHeld = throttle(stdout, request.room);
  const stderr = createInterface({ input: child.stderr!, crlfDelay: Infinity });
  stderr.on('line', (line) => {
    stderrTail = `${stderrTail}${line}\n`.slice(-stderrTailChars);
    if (options.onStderr) options.onStderr(line);
  });
  const stderrHeld = throttle(stderr, request.room);

  const drained = Promise.all([closed(stdout), closed(stderr)]);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // The drain timeout is for leftover children holding the pipes open; it never cuts output
  // that is only waiting for outbox room.
  let done = false;
  void drained.then(() => (done = true));
  for (;;) {
    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (drainTimer = setTimeout(resolve, drainMs)))]);
    clearTimeout(drainTimer);
    if (done || (!stdoutHeld() && !stderrHeld())) break;
  }
  stdout.close();
  stderr.close();
  child.stdout?.destroy();
  child.stderr?.destroy();
  child.stdin?.destroy();
  request.signal.removeEventListener('abort', onAbort);
  if (stopping) await stopping;
  return { spawned: true, pid, ...exit, stopped: stopping !== undefined, stderrTail: stderrTail.trim() };
}

/** `exited with code 2` / `was killed by SIGTERM`, with the stderr tail when there is one. */
export function describeExit(result: Extract<LineProcessResult, { spawned: true }>): string {
  const how = result.code === null ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
  return result.stderrTail ? `${how}: ${result.stderrTail}` : how;
}

/**
 * Stops reading (so the process blocks on a full pipe) while the outbox is past its budget.
 * Returns whether reading is held right now.
 */
function throttle(lines: Interface, room: RunRequest['room']): () => boolean {
  let waiting = false;
  lines.on('line', () => {
    const wait = waiting ? undefined : room();
    if (!wait) return;
    waiting = true;
    lines.pause();
    void wait.then(() => {
      waiting = false;
      lines.resume();
    });
  });
  return () => waiting;
}

function closed(lines: Interface): Promise<void> {
  return new Promise((resolve) => lines.once('close', () => resolve()));
}

/** Parses a line as a JSON object, or undefined. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
