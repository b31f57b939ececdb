/**
 * A fake OpenAI Responses API (`POST /v1/responses`, SSE) for the Codex CLI, answering from a
 * script of turns, plus the `CODEX_HOME` that points Codex at it with no other lookups.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** The environment variable that carries the fake's API key: one of codex's own families, so the gateway passes it through. */
const keyVariable = 'OPENAI_API_KEY';
/** A slug Codex knows, so it does not report missing model metadata. */
export const fakeCodexModel = 'gpt-5.5';
/** Codex's shell tool as the Responses API sees it. */
const shellTool = 'exec_command';

type InputItem = { type?: string; role?: string; content?: unknown };

export async function startOpenAiResponses(): Promise<FakeModel> {
  const requests: RecordedRequest[] = [];
  let turns: Turn[] = [];
  /** The shell turn waiting for its tool result. */
  let pending: Extract<Turn, { kind: 'shell' }> | undefined;
  const stall = latch();

  const server = await listen(({ req, res, path, body }: Exchange) => {
    if (req.method !== 'POST' || path !== '/v1/responses') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' },
        }),
      );
      return;
    }
    const input = inputItems(body);
    requests.push({ method: req.method, path, headers: req.headers, body, userTexts: userTexts(input) });
    const last = input.at(-1);
    if (pending && last?.type === 'function_call_output') {
      const text = pending.then;
      pending = undefined;
      return replyText(res, text, body);
    }
    const turn = turns.shift() ?? { kind: 'text', text: 'ok' };
    switch (turn.kind) {
      case 'text':
        return replyText(res, turn.text, body);
      case 'shell':
        pending = turn;
        return replyShell(res, turn.command, body);
      case 'error':
        res.writeHead(turn.status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { message: turn.message, type: 'invalid_request_error', code: null } }),
        );
        return;
      case 'stall':
        startText(res, turn.text);
        stall.open();
        return;
    }
  });

  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    requests,
    script(next) {
      turns = [...next];
      pending = undefined;
    },
    stalled: () => stall.wait(),
    close: () => server.close(),
  };
}

/**
 * Writes `dir/config.toml` for a Codex pointed at `fake`, with every outbound lookup off and no
 * retries (a scripted error fails at once), and returns the environment to run Codex with.
 */
export function codexHomeFor(fake: FakeModel, dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const config = `model = "${fakeCodexModel}"
model_provider = "fake"
check_for_update_on_startup = false

[model_providers.fake]
name = "fake"
base_url = "${fake.url}"
wire_api = "responses"
env_key = "${keyVariable}"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
metrics_exporter = "none"
exporter = "none"
trace_exporter = "none"

[features]
plugins = false
apps = false
remote_plugin = false
`;
  writeFileSync(join(dir, 'config.toml'), config);
  return { CODEX_HOME: dir, [keyVariable]: 'fake-key' };
}

function inputItems(body: unknown): InputItem[] {
  const input = (body as { input?: unknown } | undefined)?.input;
  return Array.isArray(input) ? (input as InputItem[]) : [];
}

function userTexts(input: InputItem[]): string[] {
  return input
    .filter((item) => item.role === 'user' && Array.isArray(item.content))
    .map((item) =>
      (item.content as { type?: string; text?: unknown }[])
        .filter((part) => part.type === 'input_text' && typeof part.text === 'string')
        .map((part) => part.text as string)
        .join(''),
    );
}

/** Rough token counts, so usage has plausible non-zero numbers. */
function usage(body: unknown, output: string) {
  return {
    input_tokens: Math.ceil(JSON.stringify(body ?? '').length / 4),
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: Math.ceil(output.length / 4) + 1,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: Math.ceil(JSON.stringify(body ?? '').length / 4) + Math.ceil(output.length / 4) + 1,
  };
}

/** Opens the stream and an assistant message, and streams `text` into it. */
function startText(res: ServerResponse, text: string) {
  const stream = sse(res);
  const responseId = `resp_${randomUUID()}`;
  const itemId = `msg_${randomUUID()}`;
  const send = (type: string, data: Record<string, unknown>) => stream.send(type, { type, ...data });
  send('response.created', { response: { id: responseId, status: 'in_progress', output: [] } });
  const item = { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] };
  send('response.output_item.added', { output_index: 0, item });
  const part = { type: 'output_text', text: '', annotations: [] };
  send('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part });
  for (const delta of text.match(/.{1,16}/gs) ?? []) {
    send('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta });
  }
  return { stream, send, responseId, itemId };
}

function replyText(res: ServerResponse, text: string, body: unknown) {
  const { stream, send, responseId, itemId } = startText(res, text);
  const part = { type: 'output_text', text, annotations: [] };
  send('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text });
  send('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part });
  const item = { id: itemId, type: 'message', role: 'assistant', status: 'completed', content: [part] };
  send('response.output_item.done', { output_index: 0, item });
  send('response.completed', {
    response: { id: responseId, status: 'completed', output: [item], usage: usage(body, text) },
  });
  stream.end();
}

function replyShell(res: ServerResponse, command: string, body: unknown) {
  const stream = sse(res);
  const responseId = `resp_${randomUUID()}`;
  const send = (type: string, data: Record<string, unknown>) => stream.send(type, { type, ...data });
  const args = JSON.stringify({ cmd: command });
  const item = {
    id: `fc_${randomUUID()}`,
    type: 'function_call',
    status: 'completed',
    name: shellTool,
    call_id: `call_${randomUUID()}`,
    arguments: args,
  };
  send('response.created', { response: { id: responseId, status: 'in_progress', output: [] } });
  send('response.output_item.added', {
    output_index: 0,
    item: { ...item, status: 'in_progress', arguments: '' },
  });
  send('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: args });
  send('response.output_item.done', { output_index: 0, item });
  send('response.completed', {
    response: { id: responseId, status: 'completed', output: [item], usage: usage(body, args) },
  });
  stream.end();
}
