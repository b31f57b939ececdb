/**
 * The `ollama` provider: a small coding agent of Gantry's own on a local model served by Ollama.
 * It streams `/api/chat` with one `shell` tool; each command the model asks for goes through the
 * binding's permission policy and runs in the workdir. The conversation (its messages) is kept in
 * `<stateDir>/<session id>.json`, saved after every round, so `continue` picks it up again.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as z from 'zod';
import { clip, tail, type FailureCode } from '@gantry/protocol';
import { readJsonFile, writeSecretJson } from '@gantry/protocol/node';
import {
  chat,
  unlessAborted,
  ollamaVersion,
  type ChatRound,
  type ChatUsage,
  type OllamaMessage,
  type OllamaToolCall,
} from './ollama-api.ts';
import type { Provider, ProviderCheck, RunOutcome, RunRequest } from './provider.ts';
import type { ProviderFactoryOptions } from './registry.ts';
import { defaultOllamaUrl, mergeSettings, type ProviderSettings } from './settings.ts';
import { runShell, shellToolName, shellToolSchema } from './shell-tool.ts';

const checkTimeoutMs = 3_000;
/** Rounds of tool calls one run may take before it stops (a model stuck in a loop). */
const maxToolRounds = 20;
const noModel = 'no model: pass --ollama-model NAME';

export function ollamaProvider(options: ProviderFactoryOptions): Provider {
  return {
    name: 'ollama',
    envFamilies: ['OLLAMA_'],
    inDaemon: true,
    async check(): Promise<ProviderCheck> {
      if (!options.settings.ollamaModel) return { ok: false, detail: noModel };
      const url = baseUrl(options.settings);
      const found = await ollamaVersion(url, checkTimeoutMs);
      return found.ok
        ? { ok: true, detail: url, version: found.version }
        : { ok: false, detail: found.detail };
    },
    run: (request, onSpawn) => new OllamaRun(options, request, onSpawn).run(),
  };
}

function baseUrl(settings: ProviderSettings): string {
  return (settings.ollamaUrl ?? defaultOllamaUrl).replace(/\/+$/, '');
}

const savedConversationSchema = z.object({
  id: z.string(),
  messages: z.array(
    z.looseObject({ role: z.enum(['system', 'user', 'assistant', 'tool']), content: z.string() }),
  ),
});

/** One run: the conversation so far, the model rounds, the tool calls between them. */
class OllamaRun {
  private readonly settings: ProviderSettings;
  private readonly url: string;
  private messages: OllamaMessage[] = [];
  private sessionId = '';
  private saved = false;
  private readonly usage: ChatUsage = { inputTokens: 0, outputTokens: 0 };
  private lastText = '';

  constructor(
    private readonly options: ProviderFactoryOptions,
    private readonly request: RunRequest,
    private readonly onSpawn: ((pid: number) => void) | undefined,
  ) {
    this.settings = mergeSettings(options.settings, request.settings);
    this.url = baseUrl(this.settings);
  }

  async run(): Promise<RunOutcome> {
    const model = this.settings.ollamaModel;
    if (!model) return this.failed('provider_unavailable', noModel);
    const resumeError = this.open();
    if (resumeError) return this.failed('resume_failed', resumeError);
    const { request } = this;
    request.emit('session', {
      id: this.sessionId,
      provider: 'ollama',
      ...(this.saved ? { resumed: true } : {}),
    });
    this.messages.push({ role: 'user', content: request.assignment.prompt });
    try {
      return await this.converse(model);
    } catch (err) {
      // Only saving the conversation throws (a full disk, a state folder that is not ours).
      return this.failed('provider_failed', `ollama: ${(err as Error).message}`);
    }
  }

  /** Model rounds until the model answers without asking for a tool. */
  private async converse(model: string): Promise<RunOutcome> {
    const { request } = this;
    for (let toolRounds = 0; ; toolRounds++) {
      if (request.signal.aborted) return this.failed('cancelled', 'the run was stopped');
      const round = await this.modelRound(model);
      if (!round.ok) return this.failed(round.code, round.message);
      this.messages.push(round.message);
      this.save();
      const calls = round.message.tool_calls ?? [];
      if (calls.length === 0) return this.succeeded();
      if (toolRounds >= maxToolRounds) {
        return this.failed(
          'provider_failed',
          `ollama: the model still asked for tools after ${maxToolRounds} rounds; stopped (continue the session to let it go on)`,
        );
      }
      for (const [index, call] of calls.entries()) {
        this.messages.push(await this.toolCall(call, `call_${toolRounds + 1}_${index + 1}`));
        if (request.signal.aborted) break;
      }
      this.save();
    }
  }

  /** Loads the conversation to continue, or starts a new one; returns why it cannot be resumed. */
  private open(): string | undefined {
    const { resumeId } = this.request;
    if (!resumeId) {
      this.sessionId = randomUUID();
      return undefined;
    }
    if (!/^[\w-]{1,100}$/.test(resumeId)) return `'${resumeId}' is not an ollama session id`;
    const file = this.file(resumeId);
    try {
      const saved = readJsonFile(file, savedConversationSchema);
      if (!saved) return `no saved conversation ${file}`;
      this.messages = saved.messages as OllamaMessage[];
    } catch (err) {
      return `cannot read the saved conversation ${file}: ${(err as Error).message}`;
    }
    this.sessionId = resumeId;
    this.saved = true;
    return undefined;
  }

  private file(id: string): string {
    return join(this.options.stateDir, `${id}.json`);
  }

  /** Written after every round (0600, atomically), so a crash loses at most the round under way. */
  private save(): void {
    writeSecretJson(this.file(this.sessionId), { id: this.sessionId, messages: this.messages });
    this.saved = true;
  }

  private async modelRound(model: string): Promise<ChatRound> {
    const { request } = this;
    const round = await chat({
      url: this.url,
      model,
      messages: [{ role: 'system', content: systemPrompt(request.workdir) }, ...this.messages],
      tools: [shellToolSchema],
      signal: request.signal,
      room: request.room,
      onDelta: (text) => request.emit('message_delta', { text }),
    });
    if (!round.ok) return round;
    const text = round.message.content;
    if (text) {
      this.lastText = text;
      request.emit('message', { text, raw: { done_reason: round.doneReason } });
    }
    if (round.usage) {
      this.usage.inputTokens += round.usage.inputTokens;
      this.usage.outputTokens += round.usage.outputTokens;
      request.emit('usage', round.usage);
    }
    return round;
  }

  /** Asks, runs (or not) one tool call, and returns the `tool` message answering it. */
  private async toolCall(call: OllamaToolCall, fallbackId: string): Promise<OllamaMessage> {
    const { request } = this;
    const id = call.id ?? fallbackId;
    const name = call.function.name;
    const answer = (content: string): OllamaMessage => ({ role: 'tool', tool_name: name, content });
    const command = commandOf(call);
    request.emit('tool_started', {
      id,
      name,
      input: clip(command ?? JSON.stringify(call.function.arguments)),
      raw: call,
    });
    if (name !== shellToolName || command === undefined) {
      const why =
        name !== shellToolName
          ? `there is no tool '${name}'; the only tool is '${shellToolName}'`
          : 'missing the `command` string argument';
      request.emit('tool_finished', { id, name, status: 'failed', output: why });
      return answer(`error: ${why}`);
    }
    const decision = await unlessAborted(
      request.requestPermission({ requestId: id, tool: shellToolName, input: clip(command, 500) }),
      request.signal,
    );
    if (decision === 'aborted') {
      request.emit('tool_finished', { id, name, status: 'cancelled' });
      return answer('not run: the run was stopped');
    }
    if (decision === 'denied') {
      request.emit('tool_finished', { id, name, status: 'denied' });
      return answer('not run: the user denied permission to run this command');
    }
    const result = await runShell(command, request, this.options.graces, this.onSpawn);
    request.emit('tool_finished', {
      id,
      name,
      status: result.status,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      output: tail(result.output),
    });
    const status = result.note ?? 'exit code 0';
    return answer(result.output ? `${status}\n${result.output}` : `${status} (no output)`);
  }

  private succeeded(): RunOutcome {
    return { status: 'succeeded', output: this.lastText, exitCode: 0, ...this.outcomeBase() };
  }

  private failed(code: FailureCode, message: string): RunOutcome {
    return {
      status: 'failed',
      output: this.lastText,
      exitCode: null,
      error: { code, message },
      ...this.outcomeBase(),
    };
  }

  private outcomeBase(): Pick<RunOutcome, 'sessionId' | 'details'> {
    const used = this.usage.inputTokens > 0 || this.usage.outputTokens > 0;
    return {
      // Only a saved conversation can be continued.
      ...(this.saved ? { sessionId: this.sessionId } : {}),
      ...(used ? { details: { usage: { ...this.usage } } } : {}),
    };
  }
}

function systemPrompt(workdir: string): string {
  return [
    `You are a coding agent working in the directory ${workdir}.`,
    `You have one tool, \`${shellToolName}\`: it runs a command with /bin/sh in that directory and returns its exit code and output.`,
    'Use it to look at, change, build and test files; the user may deny a command.',
    'When the task is done, answer with a short summary of what you did.',
  ].join('\n');
}

/** The command of a shell call; arguments are an object, or a JSON string from some models. */
function commandOf(call: OllamaToolCall): string | undefined {
  let args: unknown = call.function.arguments;
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      return undefined;
    }
  }
  const command = (args as { command?: unknown } | null)?.command;
  return typeof command === 'string' && command.trim() ? command : undefined;
}
