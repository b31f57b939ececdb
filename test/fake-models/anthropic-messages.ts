/**
 * A fake Anthropic Messages API (`POST /v1/messages`, SSE) for Claude Code and the Claude ACP
 * adapter (which runs Claude Code). Claude Code sends `HEAD /` first, then its agent turns as
 * `POST /v1/messages?beta=true` with `stream: true`.
 *
 * Which requests are agent turns: Claude Code's main loop (and any subagent) always sends its tool
 * definitions; its auxiliary model calls (session title, tool-use summary, Bash prefix extraction,
 * ...) go through one side-query helper that sends `tools: []` with its own system prompt (seen:
 * the same model, streaming). So a request with a non-empty `tools` list is an agent turn: it is
 * recorded and answered from the script. One without tools is auxiliary: answered with a short
 * text (or JSON that fits a requested JSON schema), neither recorded nor consuming a turn.
 * `count_tokens` requests get an estimate. A retry (header `x-stainless-retry-count` > 0) gets
 * the same answer again instead of the next turn.
 */
import type { ServerResponse } from 'node:http';
import {
  latch,
  listen,
  sse,
  type Exchange,
  type FakeModel,
  type RecordedRequest,
  type Turn,
} from './fake-model.ts';

interface ContentBlock {
  type: string;
  text?: string;
}

interface Message {
  role: string;
  content: string | ContentBlock[];
}

interface MessagesBody {
  model?: string;
  stream?: boolean;
  tools?: unknown[];
  messages?: Message[];
  output_config?: { format?: JsonSchemaFormat };
  output_format?: JsonSchemaFormat;
}

interface JsonSchemaFormat {
  type?: string;
  schema?: { properties?: Record<string, { type?: string }> };
}

/** What one agent request gets: text, a Bash tool call, or an API error. */
type Answer =
  | { kind: 'text'; text: string; stall?: boolean }
  | { kind: 'tool'; id: string; command: string }
  | { kind: 'error'; status: number; message: string };

const defaultTurn: Turn = { kind: 'text', text: 'ok' };

export async function startAnthropicMessages(): Promise<FakeModel> {
  const requests: RecordedRequest[] = [];
  let turns: Turn[] = [];
  let current: Turn = defaultTurn;
  let lastAnswer: Answer | undefined;
  let toolCalls = 0;
  const stall = latch();

  /** A new user prompt takes the next turn; a tool result continues the current one. */
  function answerFor(body: MessagesBody, retry: boolean): Answer {
    if (retry && lastAnswer) return lastAnswer;
    if (continuesTool(body.messages ?? []))
      return { kind: 'text', text: current.kind === 'shell' ? current.then : 'ok' };
    current = turns.shift() ?? defaultTurn;
    switch (current.kind) {
      case 'text':
        return { kind: 'text', text: current.text };
      case 'shell':
        return { kind: 'tool', id: `toolu_fake_${++toolCalls}`, command: current.command };
      case 'error':
        return { kind: 'error', status: current.status, message: current.message };
      case 'stall':
        return { kind: 'text', text: current.text, stall: true };
    }
  }

  function handle({ req, res, path, body }: Exchange): void {
    if (req.method !== 'POST') {
      res.writeHead(200).end(); // the connectivity check (`HEAD /`)
      return;
    }
    const messages = body as MessagesBody;
    if (path === '/v1/messages/count_tokens') {
      json(res, 200, { input_tokens: estimateTokens(JSON.stringify(messages.messages ?? [])) });
      return;
    }
    if (path !== '/v1/messages') {
      json(res, 404, apiError(404, `no route ${path}`));
      return;
    }
    if (!messages.tools?.length) {
      reply(res, messages, { kind: 'text', text: auxiliaryText(messages) });
      return;
    }
    requests.push({
      method: req.method,
      path,
      headers: req.headers,
      body,
      userTexts: userTexts(messages.messages ?? []),
    });
    const answer = answerFor(messages, Number(req.headers['x-stainless-retry-count'] ?? 0) > 0);
    lastAnswer = answer;
    reply(res, messages, answer);
    if (answer.kind === 'text' && answer.stall) stall.open();
  }

  const server = await listen(handle);
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    script(next) {
      turns = [...next];
    },
    stalled: () => stall.wait(),
    close: () => server.close(),
  };
}

/**
 * The environment that runs `claude` offline against the fake: its own HOME (Claude keeps
 * sessions under `$HOME/.claude`), no nonessential traffic (no update checks, telemetry or
 * feedback), and no retries (an error turn fails at once instead of backing off for a minute).
 * `IS_SANDBOX=1` only as root: there Claude refuses `bypassPermissions` without it, which the
 * Claude ACP adapter asks for; it does not loosen Claude's default permission mode.
 */
export function claudeEnvFor(fake: FakeModel, home: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-fake-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    HOME: home,
    ...(process.getuid?.() === 0 ? { IS_SANDBOX: '1' } : {}),
  };
}

/** Whether the last user message carries tool results (the model's tool call came back). */
function continuesTool(messages: Message[]): boolean {
  const last = messages.filter((m) => m.role === 'user').at(-1);
  return Array.isArray(last?.content) && last.content.some((block) => block.type === 'tool_result');
}

/**
 * The user's own prompts, in order: user messages that are not only tool results, without the
 * `<system-reminder>` context blocks Claude Code adds to them.
 */
function userTexts(messages: Message[]): string[] {
  return messages
    .filter((m) => m.role === 'user')
    .map((m) =>
      typeof m.content === 'string'
        ? m.content
        : m.content
            .filter((block) => block.type === 'text' && !block.text?.startsWith('<system-reminder>'))
            .map((block) => block.text ?? '')
            .join('\n'),
    )
    .filter((text) => text.length > 0);
}

/** For a side query: JSON filling the requested schema's string fields, else a plain `ok`. */
function auxiliaryText(body: MessagesBody): string {
  const format = body.output_config?.format ?? body.output_format;
  if (format?.type !== 'json_schema') return 'ok';
  const fields = Object.entries(format.schema?.properties ?? {}).filter(([, p]) => p.type === 'string');
  return JSON.stringify(Object.fromEntries(fields.map(([name]) => [name, 'Fake'])));
}

function reply(res: ServerResponse, body: MessagesBody, answer: Answer): void {
  if (answer.kind === 'error') {
    json(res, answer.status, apiError(answer.status, answer.message));
    return;
  }
  const model = body.model ?? 'claude-fake';
  const id = `msg_fake_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const usage = { input_tokens: estimateTokens(JSON.stringify(body.messages ?? [])), output_tokens: 0 };
  const block =
    answer.kind === 'tool'
      ? { type: 'tool_use', id: answer.id, name: 'Bash', input: { command: answer.command } }
      : { type: 'text', text: answer.text };
  const outputTokens = estimateTokens(JSON.stringify(block));
  const stopReason = answer.kind === 'tool' ? 'tool_use' : 'end_turn';
  if (!body.stream) {
    const message = { id, type: 'message', role: 'assistant', model, content: [block] };
    json(res, 200, {
      ...message,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { ...usage, output_tokens: outputTokens },
    });
    return;
  }
  const stream = sse(res);
  stream.send('message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });
  if (answer.kind === 'tool') {
    stream.send('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { ...block, input: {} },
    });
    const partial = JSON.stringify(block.input);
    stream.send('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'input_json_delta', partial_json: partial },
    });
  } else {
    stream.send('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    for (const piece of answer.text.split(/(?<= )/)) {
      stream.send('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: piece },
      });
    }
    if (answer.stall) return; // never finishes: the response stays open until the client goes away
  }
  stream.send('content_block_stop', { type: 'content_block_stop', index: 0 });
  stream.send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  stream.send('message_stop', { type: 'message_stop' });
  stream.end();
}

/** Anthropic's error body; the type follows the status as the real API does. */
function apiError(
  status: number,
  message: string,
): { type: 'error'; error: { type: string; message: string } } {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    529: 'overloaded_error',
  };
  return { type: 'error', error: { type: types[status] ?? 'api_error', message } };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${status}` });
  res.end(JSON.stringify(value));
}

/** About four characters a token, as a rough stand-in for the real tokenizer. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
