/**
 * The `codex` provider: runs `codex exec --json` (or `codex exec resume <thread id>` to continue)
 * and maps its JSONL events to the event vocabulary. Codex reports a failed turn as `error` +
 * `turn.failed` and exit 1; a resume of a thread it does not have as exit 1 with only a stderr line.
 * A binding with `--permission ask` runs through `codex app-server` instead (`codex-app-server.ts`),
 * whose command and patch approvals become hub approvals; `allow`, `deny` and no choice stay on
 * `exec`, where the sandbox alone decides.
 */
import { clip, tail, type FailureCode } from '@gantry/protocol';
import { cliCheck } from './executable.ts';
import { runAppServer } from './codex-app-server.ts';
import { describeExit, jsonLine, runLineProcess, type LineProcessResult } from './line-process.ts';
import type { Provider, RunOutcome, RunRequest } from './provider.ts';
import type { ProviderFactoryOptions } from './registry.ts';

const fix = 'install it with `npm install -g @openai/codex`, or pass --codex-bin PATH (or set CODEX_BIN)';
/** Codex names threads by UUID; anything else `codex exec resume` takes as a thread name and, not finding it, starts afresh. */
const threadIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Json = Record<string, unknown>;
type Phase = 'item.started' | 'item.updated' | 'item.completed';

/** A Codex item that is a tool call, as the vocabulary names it. */
interface ToolCall {
  name: string;
  input: string;
  /** The item without its (possibly long) output. */
  raw: Json;
  result(): {
    status: 'completed' | 'failed' | 'denied';
    exitCode?: number | null;
    output?: string;
  };
}

export function codexProvider(options: ProviderFactoryOptions): Provider {
  const bin = options.bin ?? process.env.CODEX_BIN ?? 'codex';
  const check = () => cliCheck(bin, fix);

  return {
    name: 'codex',
    envFamilies: ['OPENAI_', 'CODEX_'],
    check,
    async run(request: RunRequest, onSpawn?: (pid: number) => void): Promise<RunOutcome> {
      const status = request.checked ?? (await check());
      if (!status.ok) return failed('provider_unavailable', status.detail);
      const { resumeId } = request;
      if (resumeId !== undefined && !threadIdPattern.test(resumeId)) {
        return failed('resume_failed', `'${resumeId}' is not a codex thread id`);
      }
      // Stops the run early when Codex starts another thread than the one asked for.
      const stop = new AbortController();
      const signal = AbortSignal.any([request.signal, stop.signal]);
      const events = new CodexEvents(request, () => stop.abort());
      if ((request.settings.permission ?? options.settings.permission) === 'ask') {
        const sandbox = request.settings.sandbox ?? options.settings.sandbox ?? 'workspace-write';
        const run = { bin: status.detail, sandbox, graces: options.graces, events };
        return runAppServer({ ...run, request: { ...request, signal }, ...(onSpawn ? { onSpawn } : {}) });
      }
      const exit = await runLineProcess({
        bin: status.detail,
        args: codexArgs(request, options),
        request: { ...request, signal },
        graces: options.graces,
        ...(onSpawn ? { onSpawn } : {}),
        onStdout: (line) => events.line(line),
        onStderr: (line) => request.emit('log', { stream: 'stderr', text: line }),
      });
      return events.outcome(exit);
    },
  };
}

function codexArgs(request: RunRequest, options: ProviderFactoryOptions): string[] {
  const sandbox = request.settings.sandbox ?? options.settings.sandbox ?? 'workspace-write';
  const common = ['--json', '--skip-git-repo-check'];
  // `--` keeps a prompt that starts with a dash from being read as a flag.
  if (request.resumeId) {
    // `resume` takes no `-s`/`-C`: the sandbox goes in as config, the workdir is the cwd.
    return [
      'exec',
      'resume',
      ...common,
      '-c',
      `sandbox_mode=${sandbox}`,
      ...request.args,
      '--',
      request.resumeId,
      request.assignment.prompt,
    ];
  }
  return [
    'exec',
    ...common,
    '-s',
    sandbox,
    '-C',
    request.workdir,
    ...request.args,
    '--',
    request.assignment.prompt,
  ];
}

/** What one run's JSONL stream said so far, and its mapping to the event vocabulary. */
class CodexEvents {
  private sessionId: string | undefined;
  private lastMessage = '';
  private completed = false;
  private failure: string | undefined;
  private lastError: string | undefined;
  private wrongThread: string | undefined;
  private readonly toolStarts = new Map<string, number>();

  constructor(
    private readonly request: RunRequest,
    private readonly abandon: () => void,
  ) {}

  line(line: string): void {
    const event = jsonLine(line);
    if (!event || typeof event.type !== 'string') {
      if (line.trim()) this.request.emit('log', { stream: 'stdout', text: line });
      return;
    }
    this.event(event.type, event);
  }

  /** One event already parsed (the app-server path hands its notifications over as exec events). */
  take(event: Json): void {
    if (typeof event.type === 'string') this.event(event.type, event);
  }

  private event(type: string, event: Json): void {
    const { emit } = this.request;
    switch (type) {
      case 'thread.started':
        return this.threadStarted(text(event.thread_id));
      case 'turn.started':
        return;
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        return this.item(type, (event.item ?? {}) as Json);
      case 'turn.completed':
        this.completed = true;
        return emit('usage', usage((event.usage ?? {}) as Json, event));
      case 'error':
        // Also sent for notices Codex recovers from (a retried stream); `turn.failed` is what fails.
        this.lastError = providerMessage(text(event.message));
        return emit('log', { stream: 'provider', text: this.lastError, raw: event });
      case 'turn.failed': {
        const message = text((event.error as Json | undefined)?.message);
        this.failure = message ? providerMessage(message) : (this.lastError ?? 'the turn failed');
        return emit('error', { message: this.failure, code: 'provider_failed', raw: event });
      }
      default:
        return emit('log', { stream: 'provider', text: clip(JSON.stringify(event), 500), raw: event });
    }
  }

  private threadStarted(id: string): void {
    const { resumeId, emit } = this.request;
    if (resumeId && id !== resumeId) {
      this.wrongThread = id;
      this.abandon();
      return;
    }
    this.sessionId = id;
    emit('session', { id, provider: 'codex', resumed: resumeId !== undefined });
  }

  private item(phase: Phase, item: Json): void {
    const { emit } = this.request;
    const done = phase === 'item.completed';
    const call = toolCall(item);
    if (call) return this.tool(phase, text(item.id), call);
    switch (item.type) {
      case 'agent_message':
        if (!done) return;
        this.lastMessage = text(item.text);
        return emit('message', { text: this.lastMessage });
      case 'reasoning':
        if (done && text(item.text)) emit('status', { message: clip(text(item.text), 500), raw: item });
        return;
      case 'file_change':
        if (done) this.fileChange(item);
        return;
      case 'todo_list':
        return emit('status', { message: planSummary(item), raw: item });
      case 'error':
        // Non-fatal (e.g. no metadata for the model slug): the run goes on.
        return emit('log', { stream: 'provider', text: text(item.message), raw: item });
      default:
        if (done) emit('log', { stream: 'provider', text: clip(JSON.stringify(item), 500), raw: item });
    }
  }

  private tool(phase: Phase, id: string, call: ToolCall): void {
    const { emit } = this.request;
    if (phase === 'item.updated') return;
    const { name, input } = call;
    if (phase === 'item.started') {
      this.toolStarts.set(id, Date.now());
      return emit('tool_started', { id, name, input, raw: call.raw });
    }
    const started = this.toolStarts.get(id);
    this.toolStarts.delete(id);
    // Codex may report a quick tool only once it is done: it still gets its start.
    if (started === undefined) emit('tool_started', { id, name, input, raw: call.raw });
    const { output, ...result } = call.result();
    emit('tool_finished', {
      id,
      name,
      ...result,
      ...(output ? { output: tail(output) } : {}),
      ...(started !== undefined ? { durationMs: Math.max(0, Date.now() - started) } : {}),
      raw: call.raw,
    });
  }

  private fileChange(item: Json): void {
    const changes = Array.isArray(item.changes) ? (item.changes as Json[]) : [];
    if (item.status !== 'completed') {
      const paths = changes.map((c) => text(c.path)).join(', ');
      this.request.emit('log', {
        stream: 'provider',
        text: `file change ${text(item.status)}: ${paths}`,
        raw: item,
      });
      return;
    }
    for (const change of changes) {
      const kind = change.kind === 'add' ? 'added' : change.kind === 'delete' ? 'deleted' : 'modified';
      this.request.emit('file_changed', { path: text(change.path), kind, raw: change });
    }
  }

  outcome(exit: LineProcessResult): RunOutcome {
    if (!exit.spawned) return failed('spawn_failed', exit.message);
    const base = {
      output: this.lastMessage,
      exitCode: exit.code,
      pid: exit.pid,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
    };
    if (this.wrongThread) {
      const message = `codex started thread ${this.wrongThread} instead of resuming ${this.request.resumeId}`;
      return { status: 'failed', ...base, error: { code: 'resume_failed', message } };
    }
    const turnDone = this.completed && !this.failure;
    // Stopped from outside: what there is; the gateway says why.
    if (exit.stopped) return { status: turnDone ? 'succeeded' : 'failed', ...base };
    if (exit.code === 0 && turnDone) return { status: 'succeeded', ...base };
    if (this.request.resumeId && !this.sessionId) {
      return { status: 'failed', ...base, error: { code: 'resume_failed', message: stderrError(exit) } };
    }
    const message = this.failure ?? this.lastError ?? `codex ${describeExit(exit)}`;
    return { status: 'failed', ...base, error: { code: 'provider_failed', message } };
  }
}

function toolCall(item: Json): ToolCall | undefined {
  switch (item.type) {
    case 'command_execution':
      return {
        name: 'shell',
        input: text(item.command),
        raw: { ...item, aggregated_output: undefined },
        result: () => ({
          status: toolStatus(item.status),
          exitCode: typeof item.exit_code === 'number' ? item.exit_code : null,
          output: text(item.aggregated_output),
        }),
      };
    case 'mcp_tool_call':
      return {
        name: `${text(item.server)}.${text(item.tool)}`,
        input: clip(JSON.stringify(item.arguments ?? {}), 500),
        raw: { ...item, result: undefined },
        result: () => ({
          status: toolStatus(item.status),
          output:
            text((item.error as Json | undefined)?.message) ||
            JSON.stringify((item.result as Json | undefined)?.content ?? ''),
        }),
      };
    case 'web_search':
      return {
        name: 'web_search',
        input: text(item.query),
        raw: item,
        result: () => ({ status: 'completed' }),
      };
    default:
      return undefined;
  }
}

function failed(code: FailureCode, message: string): RunOutcome {
  return { status: 'failed', output: '', exitCode: null, error: { code, message } };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function usage(raw: Json, event: Json) {
  const cached = count(raw.cached_input_tokens);
  const reasoning = count(raw.reasoning_output_tokens);
  return {
    inputTokens: count(raw.input_tokens) ?? 0,
    outputTokens: count(raw.output_tokens) ?? 0,
    ...(cached !== undefined ? { cachedInputTokens: cached } : {}),
    ...(reasoning !== undefined ? { reasoningTokens: reasoning } : {}),
    raw: event,
  };
}

function toolStatus(status: unknown): 'completed' | 'failed' | 'denied' {
  if (status === 'declined') return 'denied';
  return status === 'failed' ? 'failed' : 'completed';
}

function planSummary(item: Json): string {
  const items = Array.isArray(item.items) ? (item.items as Json[]) : [];
  const done = items.filter((i) => i.completed === true).length;
  const next = items.find((i) => i.completed !== true);
  return `plan: ${done}/${items.length} done${next ? `; next: ${clip(text(next.text), 200)}` : ''}`;
}

/**
 * Codex passes an API error body on as its message (`{"error":{"message":...}}`); the message
 * inside is what a person wants to read.
 */
function providerMessage(message: string): string {
  const body = jsonLine(message);
  const inner = (body?.error as Json | undefined)?.message;
  return typeof inner === 'string' && inner ? inner : message;
}

/** Codex's own `Error: ...` line from stderr (e.g. `thread/resume failed: no rollout found ...`). */
function stderrError(exit: Extract<LineProcessResult, { spawned: true }>): string {
  const line = exit.stderrTail
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('Error: '));
  return line ? line.slice('Error: '.length) : `codex ${describeExit(exit)}`;
}
