/**
 * The `generic` provider: runs any command with the provider args and then the prompt as the last
 * argument. Each stdout line is an event; `GANTRY_EVENT {json}` lines are structured events
 * (`status`, `tool_start`, `tool_result`, `session`, `result`, ...). Without a `result` event the
 * final output is the plain stdout. Exit 0 succeeds; any other exit fails with the stderr tail.
 */
import { createInterface } from 'node:readline';
import { findExecutable } from './executable.ts';
import { defaultStopGraces, runMarker, spawnGroup, stopRun, type StopGraces } from './process-group.ts';
import type { Provider, ProviderCheck, RunOutcome, RunRequest } from './provider.ts';

const structuredPrefix = 'GANTRY_EVENT ';
const stderrTailChars = 4096;
/** After the process exits, how long to wait for its output pipes, which a leftover child may hold open. */
const drainMs = 500;

export function genericProvider(bin: string | undefined, graces: StopGraces = defaultStopGraces): Provider {
  const check = (): Promise<ProviderCheck> => {
    if (!bin) {
      return Promise.resolve({
        ok: false,
        detail: 'no command to run: pass --provider-bin PATH or set GANTRY_GENERIC_BIN',
      });
    }
    const found = findExecutable(bin);
    return Promise.resolve(
      found
        ? { ok: true, detail: found }
        : {
            ok: false,
            detail: `'${bin}' is not an executable file (looked ${bin.includes('/') ? 'at that path' : 'on PATH'})`,
          },
    );
  };

  return {
    name: 'generic',
    check,
    async run(request: RunRequest, onSpawn?: (pid: number) => void): Promise<RunOutcome> {
      const status = await check();
      if (!status.ok)
        return {
          status: 'failed',
          output: '',
          exitCode: null,
          error: { code: 'provider_unavailable', message: status.detail },
        };
      const child = spawnGroup(status.detail, [...request.args, request.assignment.prompt], {
        cwd: request.workdir,
        env: request.env,
      });
      const spawned = await new Promise<Error | undefined>((resolve) => {
        child.once('spawn', () => resolve(undefined));
        child.once('error', (err) => resolve(err));
      });
      if (spawned || child.pid === undefined) {
        const message = `could not start ${status.detail}: ${spawned?.message ?? 'no process'}`;
        return { status: 'failed', output: '', exitCode: null, error: { code: 'spawn_failed', message } };
      }
      const pid = child.pid;
      onSpawn?.(pid);

      let stopping: Promise<void> | undefined;
      const stop = () => (stopping ??= stopRun({ pgid: pid, runId: request.env[runMarker] ?? '' }, graces));
      if (request.signal.aborted) void stop();
      request.signal.addEventListener('abort', () => void stop(), { once: true });

      const plain: string[] = [];
      let resultText: string | undefined;
      let sessionId: string | undefined;
      let stderrTail = '';

      const stdout = createInterface({ input: child.stdout!, crlfDelay: Infinity });
      stdout.on('line', (line) => {
        const event = structured(line);
        if (!event) {
          plain.push(line);
          request.emit('output', { text: line });
          return;
        }
        const { type, ...data } = event;
        if (type === 'result' && typeof data.text === 'string') resultText = data.text;
        if (type === 'session' && typeof data.id === 'string') sessionId = data.id;
        request.emit(type, data);
      });
      const stdoutHeld = throttle(stdout, request);
      const stderr = createInterface({ input: child.stderr!, crlfDelay: Infinity });
      stderr.on('line', (line) => {
        stderrTail = `${stderrTail}${line}\n`.slice(-stderrTailChars);
        request.emit('log', { stream: 'stderr', text: line });
      });
      const stderrHeld = throttle(stderr, request);

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
      if (stopping) await stopping;

      const output = resultText ?? plain.join('\n');
      const base = { output, exitCode: exit.code, pid, ...(sessionId ? { sessionId } : {}) };
      if (exit.code === 0) return { status: 'succeeded', ...base };
      const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const tail = stderrTail.trim();
      return {
        status: 'failed',
        ...base,
        error: { code: 'provider_failed', message: tail ? `${how}: ${tail}` : how },
      };
    },
  };
}

function structured(line: string): ({ type: string } & Record<string, unknown>) | undefined {
  if (!line.startsWith(structuredPrefix)) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(structuredPrefix.length));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const type = (value as { type?: unknown }).type;
    if (typeof type !== 'string' || type.length === 0 || type.length > 64) return undefined;
    return value as { type: string } & Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Stops reading (so the process blocks on a full pipe) while the outbox is past its budget.
 * Returns whether reading is held right now.
 */
function throttle(lines: ReturnType<typeof createInterface>, request: RunRequest): () => boolean {
  let waiting = false;
  lines.on('line', () => {
    const room = waiting ? undefined : request.room();
    if (!room) return;
    waiting = true;
    lines.pause();
    void room.then(() => {
      waiting = false;
      lines.resume();
    });
  });
  return () => waiting;
}

function closed(lines: ReturnType<typeof createInterface>): Promise<void> {
  return new Promise((resolve) => lines.once('close', () => resolve()));
}
