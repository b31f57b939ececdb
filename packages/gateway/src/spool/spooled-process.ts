/**
 * A provider process run through its supervisor (`supervisor-source.ts`) instead of on the
 * daemon's pipes: the supervisor is spawned detached, the run's lines are read back from its
 * `output.jsonl` as they come, and the result is the supervisor's exit line. A daemon that took
 * over after a restart reads the same file from its start (`attach`), so the provider rebuilds its
 * state and the event numbers come out as before. On a handover (`leave`) reading stops and the
 * run goes on. Stopping signals the provider's group, as for a run on pipes. A protocol over stdin
 * writes through the supervisor's socket (`spool-input.ts`).
 */
import { watch, writeFileSync, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFailure } from '@gantry/protocol';
import type { LineProcessOptions, LineProcessResult } from '../providers/line-process.ts';
import { stopRun } from '../providers/process-group.ts';
import { supervisorAlive, type RunSpool } from './run-spool.ts';
import { nothingSent, sentBefore, SpoolInput } from './spool-input.ts';
import { spawnSupervisor } from './spare-supervisor.ts';

const stderrTailChars = 4096;

export async function runSpooled(options: LineProcessOptions, spool: RunSpool): Promise<LineProcessResult> {
  const { request } = options;
  spool.used = true;
  if (!spool.attach) {
    const started = await startSupervisor(options, spool);
    if (started) return { spawned: false, message: `could not start ${options.bin}: ${started}` };
  }
  const tail = new SpoolTail(join(spool.dir, 'output.jsonl'), spool.dir, spool.leave);
  let input: SpoolInput | undefined;
  try {
    const head = await tail.next();
    // The provider is up (or failed to be): the next run's supervisor is started now, off this run's path.
    spool.spare?.refill();
    if (!head) throw lost('its supervisor ended before the provider started');
    if (typeof head.spawnError === 'string')
      return { spawned: false, message: `could not start ${options.bin}: ${head.spawnError}` };
    const pid = Number(head.pid);
    options.onSpawn?.(pid);
    if (options.stdin) {
      const sent = spool.attach ? sentBefore(spool.dir) : nothingSent;
      input = new SpoolInput(spool.dir, Number(head.supervisor), sent, options.stdin.asker, spool.leave);
      options.stdin.onInput(input);
    }

    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= stopRun({ pgid: pid, runId: spool.runId }, options.graces));
    const onAbort = () => void stop();
    if (request.signal.aborted) onAbort();
    request.signal.addEventListener('abort', onAbort, { once: true });

    let stderrTail = '';
    for (;;) {
      // Lines already read are taken without a wait: a promise per line cost more than the line.
      const line = tail.held() ?? (await tail.next());
      if (!line) {
        await stopRun({ pgid: pid, runId: spool.runId }, options.graces);
        throw lost('its supervisor ended without the run’s exit status');
      }
      if (typeof line.o === 'string') options.onStdout(line.o);
      else if (typeof line.e === 'string') {
        stderrTail = `${stderrTail}${line.e}\n`.slice(-stderrTailChars);
        options.onStderr?.(line.e);
      } else if ('exit' in line) {
        request.signal.removeEventListener('abort', onAbort);
        if (stopping) await stopping;
        if (line.abandoned === true)
          throw lost('the gateway was gone past the lease and grace, so the run stopped itself');
        return {
          spawned: true,
          pid,
          code: typeof line.exit === 'number' ? line.exit : null,
          signal: typeof line.signal === 'string' ? (line.signal as NodeJS.Signals) : null,
          stopped: stopping !== undefined,
          stderrTail: stderrTail.trim(),
        };
      } else continue;
      // A conversation answers a line before it reads the next (replayed lines come all at once).
      if (options.stdin) await new Promise((resolve) => setImmediate(resolve));
      // Back-pressure: the lines wait in the spool file while the outbox is past its budget.
      const wait = request.room();
      if (wait) await wait;
    }
  } finally {
    input?.close();
    await tail.close();
  }
}

/** The run is gone without a result: it is reported lost, so the hub retries or fails it. */
function lost(why: string): RunFailure {
  return new RunFailure('gateway_lost', `the run was lost: ${why}`);
}

/**
 * Hands the run to a supervisor on its stdin: the spare started ahead of it when there is one,
 * a fresh one otherwise. Resolves with an error message, or undefined.
 */
async function startSupervisor(options: LineProcessOptions, spool: RunSpool): Promise<string | undefined> {
  spool.record();
  const supervisor =
    (await spool.spare?.take()?.then((spare) => (spare instanceof Error ? undefined : spare))) ??
    (await spawnSupervisor(spool.script, spool.dir, spool.dir));
  if (supervisor instanceof Error) return `no supervisor: ${supervisor.message}`;
  const { child, mark } = supervisor;
  writeFileSync(join(spool.dir, 'supervisor.pid'), `${child.pid}\n${mark}\n`, { mode: 0o600 });
  child.stdin?.end(
    JSON.stringify({
      dir: spool.dir,
      bin: options.bin,
      args: options.args,
      cwd: options.request.workdir,
      env: options.request.env,
      aliveFile: spool.aliveFile,
      goneMs: spool.goneMs,
      graces: options.graces,
      stdin: options.stdin ? 'pipe' : 'ignore',
    }) + '\n',
  );
  return undefined;
}

/**
 * The text of an output line the supervisor wrote as `{"o":"..."}` with nothing escaped in it (no
 * backslash, so no quote either): most lines of most runs, read without JSON.parse. Undefined for
 * any other line.
 */
function plainOutput(line: string): string | undefined {
  if (!line.startsWith('{"o":"') || !line.endsWith('"}') || line.length < 8) return undefined;
  if (line.indexOf('\\', 6) !== -1 || line.indexOf('"', 6) !== line.length - 2) return undefined;
  return line.slice(6, -2);
}

/** Reads a growing JSON-lines file line by line, waiting for more while its writer lives. */
class SpoolTail {
  private handle: FileHandle | undefined;
  private offset = 0;
  private rest = Buffer.alloc(0);
  private lines: string[] = [];
  /** The next of `lines` to hand out. */
  private at = 0;
  private readonly buffer = Buffer.alloc(64 * 1024);
  private watcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;
  /** Whether the last wait ran out without a change (then the writer's life is looked at). */
  private quiet = true;

  constructor(
    private readonly file: string,
    private readonly dir: string,
    private readonly leave: AbortSignal,
  ) {}

  /** The next line already read, parsed; undefined when none is (then `next` reads and waits). */
  held(): Record<string, unknown> | undefined {
    while (!this.leave.aborted) {
      const line = this.lines[this.at];
      if (line === undefined) return undefined;
      this.at += 1;
      const plain = plainOutput(line);
      if (plain !== undefined) return { o: plain };
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        // a torn last line of a killed writer
      }
    }
    return undefined;
  }

  /** The next line, parsed; undefined once the writer has ended and nothing is left. */
  async next(): Promise<Record<string, unknown> | undefined> {
    for (;;) {
      if (this.leave.aborted) {
        await this.close();
        return new Promise(() => undefined); // handed over: this reader never goes on
      }
      const line = this.held();
      if (line !== undefined) return line;
      if (await this.read()) continue;
      if (this.quiet) {
        // Nothing for a while: did the writer end? Read once more after looking, so no last line is missed.
        const ended = !supervisorAlive(this.dir);
        if (await this.read()) continue;
        if (ended) return undefined;
      }
      this.quiet = !(await this.changed());
    }
  }

  /** Reads the next chunk of what was appended (once the lines before are handed out); true when whole lines came. */
  private async read(): Promise<boolean> {
    this.handle ??= await open(this.file, 'r').catch(() => undefined);
    if (!this.handle) return false;
    const { buffer } = this;
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
    if (bytesRead === 0) return false;
    this.offset += bytesRead;
    // Bytes, not characters, are cut at the chunk's end: decode only up to its last newline.
    const chunk = Buffer.concat([this.rest, buffer.subarray(0, bytesRead)]);
    const end = chunk.lastIndexOf(0x0a);
    this.rest = end < 0 ? chunk : chunk.subarray(end + 1);
    this.lines = end < 0 ? [] : chunk.toString('utf8', 0, end).split('\n');
    this.at = 0;
    return end >= 0;
  }

  /**
   * Waits for the folder to change (true), or a second at most (false: a missed notification, or
   * the writer ended).
   */
  private async changed(): Promise<boolean> {
    this.watcher ??= watch(this.dir, () => this.wake?.());
    let timer: NodeJS.Timeout | undefined;
    let onLeave = () => undefined as void;
    const changed = await new Promise<boolean>((resolve) => {
      this.wake = () => resolve(true);
      onLeave = () => resolve(true);
      timer = setTimeout(() => resolve(false), 1000);
      this.leave.addEventListener('abort', onLeave, { once: true });
    });
    clearTimeout(timer);
    this.leave.removeEventListener('abort', onLeave);
    this.wake = undefined;
    return changed;
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
