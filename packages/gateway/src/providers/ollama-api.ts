/**
 * Ollama's HTTP API as the ollama provider uses it: `/api/version` for the check, and one streamed
 * `/api/chat` round. The stream is newline-delimited JSON: chunks with a piece of
 * `message.content` (or `message.tool_calls`), then one with `done: true` and the token counts; an
 * `{error}` line when the model fails mid-stream, an `{error}` body with an HTTP error status before.
 */
import { jsonLine } from './line-process.ts';

export interface OllamaToolCall {
  /** Newer Ollama versions give each call an id; older ones do not. */
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> | string };
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool_calls?: OllamaToolCall[];
  /** On a `tool` message: the tool whose result it is. */
  tool_name?: string;
}

export interface ChatUsage {
  inputTokens: number;
  outputTokens: number;
}

export type ChatRound =
  | { ok: true; message: OllamaMessage; usage?: ChatUsage; doneReason?: string }
  | { ok: false; code: 'provider_failed' | 'provider_unavailable' | 'cancelled'; message: string };

export interface ChatOptions {
  url: string;
  model: string;
  messages: OllamaMessage[];
  tools: readonly unknown[];
  signal: AbortSignal;
  /** Back-pressure: resolves once the outbox has room (undefined while it has). */
  room(): Promise<void> | undefined;
  onDelta(text: string): void;
}

export const startOllama = 'is Ollama running? start it with `ollama serve`, or pass --ollama-url';

/** Streams one chat round and gathers the assistant's whole message. */
export async function chat(options: ChatOptions): Promise<ChatRound> {
  const { url, signal } = options;
  let response: Response;
  try {
    response = await fetch(`${url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: options.model,
        messages: options.messages,
        tools: options.tools,
        stream: true,
      }),
      signal,
    });
  } catch (err) {
    if (signal.aborted) return cancelled;
    return { ok: false, code: 'provider_unavailable', message: unreachable(url, err) };
  }
  if (!response.ok || !response.body) {
    return { ok: false, code: 'provider_failed', message: `ollama: ${await errorOf(response)}` };
  }
  try {
    return await readRound(response.body, options);
  } catch (err) {
    if (signal.aborted) return cancelled;
    return { ok: false, code: 'provider_failed', message: `ollama: the reply broke off (${reason(err)})` };
  }
}

const cancelled = { ok: false, code: 'cancelled', message: 'the run was stopped' } as const;

async function readRound(body: ReadableStream<Uint8Array>, options: ChatOptions): Promise<ChatRound> {
  let content = '';
  const toolCalls: OllamaToolCall[] = [];
  for await (const chunk of ndjson(body)) {
    if (!chunk)
      return {
        ok: false,
        code: 'provider_failed',
        message: 'ollama: the reply held a line that is not JSON',
      };
    if (typeof chunk.error === 'string')
      return { ok: false, code: 'provider_failed', message: `ollama: ${chunk.error}` };
    const message = chunk.message as Partial<OllamaMessage> | undefined;
    if (typeof message?.content === 'string' && message.content) {
      content += message.content;
      options.onDelta(message.content);
    }
    if (Array.isArray(message?.tool_calls)) toolCalls.push(...message.tool_calls);
    if (chunk.done === true) {
      return {
        ok: true,
        message: { role: 'assistant', content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
        ...usageOf(chunk),
        ...(typeof chunk.done_reason === 'string' ? { doneReason: chunk.done_reason } : {}),
      };
    }
    // Past the outbox's budget, stop reading (Ollama then waits on the socket) until there is room.
    const room = options.room();
    if (room && (await unlessAborted(room, options.signal)) === 'aborted') return cancelled;
  }
  return { ok: false, code: 'provider_failed', message: 'ollama: the reply ended before it was done' };
}

/** Each line of the body as a JSON object, or undefined for a line that is not one. */
async function* ndjson(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown> | undefined> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield jsonLine(line);
    }
  }
  const last = (buffer + decoder.decode()).trim();
  if (last) yield jsonLine(last);
}

function usageOf(done: Record<string, unknown>): { usage?: ChatUsage } {
  const count = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
  const input = count(done.prompt_eval_count);
  const output = count(done.eval_count);
  if (input === undefined && output === undefined) return {};
  return { usage: { inputTokens: input ?? 0, outputTokens: output ?? 0 } };
}

/** The `{error}` of an error response, or its status and the start of its body. */
async function errorOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  const body = jsonLine(text.trim());
  if (typeof body?.error === 'string') return body.error;
  const start = text.trim().slice(0, 200);
  return `HTTP ${response.status}${start ? `: ${start}` : ''}`;
}

/** The Ollama version at `url`, or what went wrong and how to fix it. */
export async function ollamaVersion(
  url: string,
  timeoutMs: number,
): Promise<{ ok: true; version: string } | { ok: false; detail: string }> {
  let response: Response;
  try {
    response = await fetch(`${url}/api/version`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    return {
      ok: false,
      detail: timedOut
        ? `ollama at ${url} did not answer within ${timeoutMs / 1000} s: ${startOllama}`
        : unreachable(url, err),
    };
  }
  const body = response.ok ? jsonLine((await response.text().catch(() => '')).trim()) : undefined;
  if (typeof body?.version !== 'string') {
    return {
      ok: false,
      detail: `${url}/api/version answered HTTP ${response.status} without a version: is ${url} an Ollama server? pass --ollama-url`,
    };
  }
  return { ok: true, version: body.version };
}

function unreachable(url: string, err: unknown): string {
  return `ollama at ${url} is not reachable (${reason(err)}): ${startOllama}`;
}

/** The low-level cause fetch wraps (`ECONNREFUSED`), else the error's message. */
function reason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return (err as Error).message;
}

/**
 * The promise's value, or `'aborted'` as soon as the signal is: a pending `ask` or a full outbox
 * must not hold up a stop.
 */
export async function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) return 'aborted';
  let onAbort!: () => void;
  const stopped = new Promise<'aborted'>((resolve) => (onAbort = () => resolve('aborted')));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([promise, stopped]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
