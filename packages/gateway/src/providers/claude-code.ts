/**
 * The `claude-code` provider: runs `claude -p` with its stream-json output in the workdir and maps
 * Claude Code's events to the event vocabulary. Permissions are Claude's own: the binding's
 * `--permission-mode` and `--allowed-tools`; what Claude refused in its default mode is reported as
 * `denied` tool calls once the run ends (Claude only lists them in its final `result`). A binding
 * that chooses `--permission` also gets what Claude would have asked a person through its
 * `--permission-prompt-tool`, served by the gateway for the run (`permission-prompt.ts`): with `ask`,
 * a hub approval; with `allow` or `deny`, the policy's answer.
 */
import { isAbsolute, relative } from 'node:path';
import { clip, tail, type FailureCode } from '@gantry/protocol';
import { cliCheck } from './executable.ts';
import { describeExit, jsonLine, runLineProcess, type LineProcessResult } from './line-process.ts';
import { unavailable, type Provider, type RunOutcome, type RunRequest } from './provider.ts';
import type { ProviderFactoryOptions } from './registry.ts';
import { servePermissionPrompt, promptToolName, type PromptServer } from './permission-prompt.ts';
import { mergeSettings } from './settings.ts';

const installHint =
  'install it with `npm install -g @anthropic-ai/claude-code`, or pass --claude-bin PATH (or set CLAUDE_BIN)';
/** The tools that write files, and the input field that names the file. */
const fileTools: Record<string, string> = {
  Write: 'file_path',
  Edit: 'file_path',
  MultiEdit: 'file_path',
  NotebookEdit: 'notebook_path',
};
/** What a tool call's input is summed up by, per tool (otherwise its JSON). */
const summaryFields: Record<string, string> = {
  Bash: 'command',
  Read: 'file_path',
  Glob: 'pattern',
  Grep: 'pattern',
  WebFetch: 'url',
  WebSearch: 'query',
  Task: 'description',
  Agent: 'description',
  ...fileTools,
};

export function claudeCodeProvider(options: ProviderFactoryOptions): Provider {
  const bin = options.bin ?? process.env.CLAUDE_BIN ?? 'claude';
  const check = () => cliCheck(bin, installHint);
  return {
    name: 'claude-code',
    // Beyond its own families: the switches that turn off Claude's telemetry, error reports and
    // update checks, and the CA bundle a proxy (allowlisted HTTPS_PROXY) may need. IS_SANDBOX is
    // left out on purpose: as root it unlocks bypassPermissions, so it takes an explicit --env-pass.
    envFamilies: [
      'ANTHROPIC_',
      'CLAUDE_',
      'DISABLE_TELEMETRY',
      'DISABLE_ERROR_REPORTING',
      'DISABLE_AUTOUPDATER',
      'NODE_EXTRA_CA_CERTS',
    ],
    check,
    async run(request, onSpawn) {
      const found = request.checked ?? (await check());
      if (!found.ok) return unavailable(found.detail);
      return new ClaudeRun(options, request).run(found.detail, onSpawn);
    },
  };
}

interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  startedAt: number;
}

interface ContentBlock {
  type?: string;
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}

interface ResultEvent {
  subtype?: string;
  is_error?: boolean;
  result?: string;
  session_id?: string;
  total_cost_usd?: number;
  usage?: Record<string, unknown>;
  errors?: string[];
  permission_denials?: { tool_name?: string; tool_use_id?: string; tool_input?: Record<string, unknown> }[];
}

/** One `claude -p` run: the events read so far and what they add up to. */
class ClaudeRun {
  private sessionId: string | undefined;
  private readonly tools = new Map<string, ToolCall>();
  private result: ResultEvent | undefined;
  private lastMessage = '';
  private usage: { inputTokens: number; outputTokens: number; costUsd?: number } | undefined;
  private prompts = 0;
  /** Tool calls a person (or the policy) refused through the permission prompt. */
  private readonly refused = new Set<string>();

  constructor(
    private readonly options: ProviderFactoryOptions,
    private readonly request: RunRequest,
  ) {}

  async run(bin: string, onSpawn: ((pid: number) => void) | undefined): Promise<RunOutcome> {
    const settings = mergeSettings(this.options.settings, this.request.settings);
    // Only a binding that chose `--permission` is asked through the gateway: others keep Claude's own.
    const prompt = settings.permission ? await servePermissionPrompt((call) => this.ask(call)) : undefined;
    try {
      const exit = await runLineProcess({
        bin,
        args: this.args(prompt),
        request: this.request,
        graces: this.options.graces,
        ...(onSpawn ? { onSpawn } : {}),
        onStdout: (line) => this.onLine(line),
        onStderr: (line) => this.request.emit('log', { stream: 'stderr', text: line }),
      });
      return this.outcome(exit);
    } finally {
      await prompt?.close();
    }
  }

  /** Claude's permission prompt: the binding's policy, or a person on the hub, decides. */
  private async ask(call: { tool: string; input: Record<string, unknown>; toolUseId: string | undefined }) {
    const decision = await this.request.requestPermission({
      requestId: call.toolUseId ?? `prompt-${++this.prompts}`,
      tool: call.tool,
      input: summary(call.tool, call.input),
    });
    if (decision === 'approved') return { behavior: 'allow' } as const;
    if (call.toolUseId) this.refused.add(call.toolUseId);
    const message =
      `Permission to use ${call.tool} was denied through Gantry (a person said no, or nobody answered in time). ` +
      'Do not try to get around it; go on without it or say what you needed it for.';
    return { behavior: 'deny', message } as const;
  }

  private args(prompt: PromptServer | undefined): string[] {
    const settings = mergeSettings(this.options.settings, this.request.settings);
    return [
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--include-partial-messages',
      ...(settings.permissionMode ? ['--permission-mode', settings.permissionMode] : []),
      ...(settings.allowedTools?.length ? ['--allowedTools', settings.allowedTools.join(',')] : []),
      ...(prompt ? ['--mcp-config', prompt.configPath, '--permission-prompt-tool', promptToolName] : []),
      ...(this.request.resumeId ? ['--resume', this.request.resumeId] : []),
      ...this.request.args,
      // The prompt after `--`, so one that starts with a dash is not read as an option.
      '--',
      this.request.assignment.prompt,
    ];
  }

  private onLine(line: string): void {
    const event = jsonLine(line);
    if (!event) {
      if (line.trim()) this.request.emit('log', { stream: 'stdout', text: line });
      return;
    }
    switch (event.type) {
      case 'system':
        return this.onSystem(event);
      case 'stream_event':
        return this.onStreamEvent(event.event as Record<string, unknown> | undefined);
      case 'assistant':
        return this.onAssistant(event);
      case 'user':
        return this.onUser(event);
      case 'result':
        return this.onResult(event as ResultEvent);
      default:
        this.request.emit('log', { stream: 'provider', text: clip(line, 500) });
    }
  }

  private onSystem(event: Record<string, unknown>): void {
    if (event.subtype === 'init' && typeof event.session_id === 'string') {
      this.sessionId = event.session_id;
      const { type, subtype, session_id, model, cwd, permissionMode } = event;
      this.request.emit('session', {
        id: event.session_id,
        provider: 'claude-code',
        resumed: this.request.resumeId === event.session_id,
        raw: { type, subtype, session_id, model, cwd, permissionMode },
      });
    } else if (event.subtype === 'status' && typeof event.status === 'string') {
      this.request.emit('status', { message: event.status, raw: event });
    } else {
      this.request.emit('log', { stream: 'provider', text: clip(JSON.stringify(event), 500) });
    }
  }

  private onStreamEvent(event: Record<string, unknown> | undefined): void {
    const delta =
      event?.type === 'content_block_delta' ? (event.delta as { type?: string; text?: string }) : undefined;
    if (delta?.type === 'text_delta' && delta.text) this.request.emit('message_delta', { text: delta.text });
  }

  private onAssistant(event: Record<string, unknown>): void {
    const message = event.message as { model?: string; content?: ContentBlock[] } | undefined;
    for (const block of message?.content ?? []) {
      if (block.type === 'text' && block.text) {
        // Claude reports API errors as a made-up assistant message of model `<synthetic>`.
        if (message?.model === '<synthetic>') this.request.emit('error', { message: block.text, raw: block });
        else {
          this.lastMessage = block.text;
          this.request.emit('message', { text: block.text, raw: block });
        }
      } else if (block.type === 'tool_use' && block.id && block.name) {
        const input = block.input ?? {};
        this.tools.set(block.id, { name: block.name, input, startedAt: Date.now() });
        this.request.emit('tool_started', {
          id: block.id,
          name: block.name,
          input: summary(block.name, input),
          raw: block,
        });
      }
    }
  }

  private onUser(event: Record<string, unknown>): void {
    const message = event.message as { content?: ContentBlock[] | string } | undefined;
    if (!Array.isArray(message?.content)) return;
    for (const block of message.content) {
      if (block.type !== 'tool_result' || !block.tool_use_id) continue;
      const call = this.tools.get(block.tool_use_id);
      const name = call?.name ?? 'unknown';
      const text = resultText(block.content);
      this.request.emit('tool_finished', {
        id: block.tool_use_id,
        name,
        status: this.refused.has(block.tool_use_id) ? 'denied' : block.is_error ? 'failed' : 'completed',
        ...exitCodeOf(name, block.is_error === true, text),
        ...(call ? { durationMs: Date.now() - call.startedAt } : {}),
        ...(text ? { output: tail(text) } : {}),
      });
      if (call && !block.is_error) this.fileChanged(call, event.tool_use_result);
    }
  }

  /** A file tool that succeeded: Write says whether it created or updated the file. */
  private fileChanged(call: ToolCall, toolResult: unknown): void {
    const field = fileTools[call.name];
    const path = field ? call.input[field] : undefined;
    if (typeof path !== 'string') return;
    const created = (toolResult as { type?: unknown } | undefined)?.type === 'create';
    const inside = relative(this.request.workdir, path);
    this.request.emit('file_changed', {
      path: inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path,
      kind: created ? 'added' : 'modified',
    });
  }

  private onResult(event: ResultEvent): void {
    this.result = event;
    const usage = event.usage ?? {};
    const count = (key: string) => (typeof usage[key] === 'number' ? usage[key] : 0);
    // Anthropic counts cached input apart from `input_tokens`; the vocabulary's input is the total.
    const cached = count('cache_read_input_tokens');
    this.usage = {
      inputTokens: count('input_tokens') + count('cache_creation_input_tokens') + cached,
      outputTokens: count('output_tokens'),
      ...(typeof event.total_cost_usd === 'number' ? { costUsd: event.total_cost_usd } : {}),
    };
    this.request.emit('usage', { ...this.usage, cachedInputTokens: cached, raw: usage });
    for (const denial of event.permission_denials ?? []) this.denied(denial);
  }

  /** A tool call Claude refused: its earlier `failed` becomes `denied` (Claude says so only now). */
  private denied(denial: NonNullable<ResultEvent['permission_denials']>[number]): void {
    const id = denial.tool_use_id;
    if (id && this.refused.has(id)) return; // reported as denied when its result came
    const name = denial.tool_name ?? 'unknown';
    const call = id ? this.tools.get(id) : undefined;
    if (id && call) {
      this.request.emit('tool_finished', { id, name, status: 'denied', raw: denial });
    } else {
      const input = summary(name, denial.tool_input ?? {});
      this.request.emit('error', { message: `Claude Code denied ${name}: ${input}`, raw: denial });
    }
  }

  private outcome(exit: LineProcessResult): RunOutcome {
    if (!exit.spawned) return this.failed(null, 'spawn_failed', exit.message);
    if (exit.stopped) return { ...this.failed(exit.code, 'cancelled', 'the run was stopped'), pid: exit.pid };
    const base = {
      output: this.result?.result ?? this.lastMessage,
      exitCode: exit.code,
      pid: exit.pid,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
      ...(this.usage ? { details: { usage: this.usage } } : {}),
    };
    if (exit.code === 0 && !this.result?.is_error) return { status: 'succeeded', ...base };
    const message = this.failureMessage(exit);
    // Claude checks `--resume` before it starts the session: a refusal comes before any `init`.
    const refused =
      this.request.resumeId !== undefined && !this.sessionId && /no conversation found|resume/i.test(message);
    return {
      status: 'failed',
      ...base,
      error: { code: refused ? 'resume_failed' : 'provider_failed', message },
    };
  }

  /** Claude's own words: its errors, its result text, or else how the process ended. */
  private failureMessage(exit: Extract<LineProcessResult, { spawned: true }>): string {
    const errors = this.result?.errors?.filter(Boolean) ?? [];
    if (errors.length) return errors.join('; ');
    if (this.result?.is_error && this.result.result) return this.result.result;
    const described = `claude ${describeExit(exit)}`;
    // As root, Claude refuses bypassPermissions unless IS_SANDBOX=1, which the run gets only when passed on.
    return /root\/sudo/.test(exit.stderrTail)
      ? `${described} (set IS_SANDBOX=1 and pass it with --env-pass IS_SANDBOX)`
      : described;
  }

  private failed(exitCode: number | null, code: FailureCode, message: string): RunOutcome {
    return {
      status: 'failed',
      output: this.lastMessage,
      exitCode,
      error: { code, message },
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
    };
  }
}

/** A short, readable summary of a tool call's input: the command, the path, the pattern, ... */
function summary(name: string, input: Record<string, unknown>): string {
  const field = summaryFields[name];
  const value = field ? input[field] : undefined;
  return clip(typeof value === 'string' ? value : JSON.stringify(input), 500);
}

/** A tool result's text: a string, or the text blocks of a content list. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: { type?: string; text?: string }) => (block.type === 'text' ? (block.text ?? '') : ''))
    .filter(Boolean)
    .join('\n');
}

/** Bash results carry the exit code only when it is not 0 (`Exit code 2\n...`). */
function exitCodeOf(name: string, failed: boolean, text: string): { exitCode?: number } {
  if (name !== 'Bash') return {};
  const code = /^Exit code (\d+)/.exec(text)?.[1];
  if (code) return { exitCode: Number(code) };
  return failed ? {} : { exitCode: 0 };
}
