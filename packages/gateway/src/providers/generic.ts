/**
 * The `generic` provider: runs any command with the provider args and then the prompt as the last
 * argument. Each stdout line is an event; `GANTRY_EVENT {json}` lines are structured events in the
 * event vocabulary (`status`, `tool_started`, `tool_finished`, `session`, `result`, ...; the older
 * `tool_start` and `tool_result` are read as the first two). Without a `result` event the final
 * output is the plain stdout. Exit 0 succeeds; any other exit fails with the stderr tail.
 */
import { describeExit, runLineProcess } from './line-process.ts';
import { binCheck } from './executable.ts';
import { defaultStopGraces, type StopGraces } from './process-group.ts';
import {
  unavailable,
  type Provider,
  type ProviderCheck,
  type RunOutcome,
  type RunRequest,
} from './provider.ts';

const structuredPrefix = 'GANTRY_EVENT ';
const aliases: Record<string, string> = { tool_start: 'tool_started', tool_result: 'tool_finished' };

export function genericProvider(bin: string | undefined, graces: StopGraces = defaultStopGraces): Provider {
  const check = (): Promise<ProviderCheck> =>
    Promise.resolve(
      bin
        ? binCheck(bin, 'pass --provider-bin PATH or set GANTRY_GENERIC_BIN')
        : { ok: false, detail: 'no command to run: pass --provider-bin PATH or set GANTRY_GENERIC_BIN' },
    );

  return {
    name: 'generic',
    envFamilies: [],
    check,
    async run(request: RunRequest, onSpawn?: (pid: number) => void): Promise<RunOutcome> {
      const status = request.checked ?? (await check());
      if (!status.ok) return unavailable(status.detail);
      const plain: string[] = [];
      let resultText: string | undefined;
      let noReply = false;
      let sessionId: string | undefined;
      // The script's own event names are passed on as they are.
      const emit = request.emit as (type: string, data: Record<string, unknown>) => void;
      const exit = await runLineProcess({
        bin: status.detail,
        args: [...request.args, request.assignment.prompt],
        request,
        graces,
        ...(onSpawn ? { onSpawn } : {}),
        onStdout(line) {
          const event = structured(line);
          if (!event) {
            plain.push(line);
            request.emit('output', { text: line });
            return;
          }
          const { type, ...data } = event;
          if (type === 'result' && typeof data.text === 'string') resultText = data.text;
          // `{"type":"result","reply":false}`: the run ends without a reply (issue 12).
          if (type === 'result' && data.reply === false) {
            noReply = true;
            resultText ??= '';
          }
          if (type === 'session' && typeof data.id === 'string') sessionId = data.id;
          emit(aliases[type] ?? type, data);
        },
        onStderr: (line) => request.emit('log', { stream: 'stderr', text: line }),
      });
      if (!exit.spawned)
        return {
          status: 'failed',
          output: '',
          exitCode: null,
          error: { code: 'spawn_failed', message: exit.message },
        };
      const base = {
        output: resultText ?? plain.join('\n'),
        exitCode: exit.code,
        pid: exit.pid,
        ...(sessionId ? { sessionId } : {}),
        ...(noReply ? { details: { reply: false } } : {}),
      };
      if (exit.code === 0) return { status: 'succeeded', ...base };
      return { status: 'failed', ...base, error: { code: 'provider_failed', message: describeExit(exit) } };
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
