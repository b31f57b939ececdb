/**
 * A fake Ollama server: `POST /api/chat` answers from the turn script as Ollama does, a stream of
 * newline-delimited JSON chunks (`message.content` pieces or `message.tool_calls`, then a `done`
 * chunk with the token counts), or one object with `stream: false`; errors are `{error}` with an
 * HTTP status. `GET /api/version` and `GET /api/tags` answer like a server with one model.
 */
import type { ServerResponse } from 'node:http';
import { latch, listen, type FakeModel, type RecordedRequest, type Turn } from './fake-model.ts';

export const fakeOllamaVersion = '0.12.0-fake';
/** The one model `/api/tags` lists; `/api/chat` answers for any model name. */
export const fakeOllamaModel = 'qwen-test:latest';

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

export async function startOllamaChat(): Promise<FakeModel> {
  let turns: Turn[] = [];
  let current: Turn | undefined;
  const requests: RecordedRequest[] = [];
  const stall = latch();

  const server = await listen(({ req, res, path, body }) => {
    if (req.method === 'GET' && path === '/api/version')
      return json(res, 200, { version: fakeOllamaVersion });
    if (req.method === 'GET' && path === '/api/tags')
      return json(res, 200, { models: [tagOf(fakeOllamaModel)] });
    if (req.method !== 'POST' || path !== '/api/chat')
      return json(res, 404, { error: `no route ${req.method} ${path}` });

    const request = (body ?? {}) as { model?: unknown; messages?: unknown; stream?: unknown };
    if (typeof request.model !== 'string' || !request.model)
      return json(res, 400, { error: 'model is required' });
    const messages = Array.isArray(request.messages) ? (request.messages as ChatMessage[]) : [];
    requests.push({
      method: 'POST',
      path,
      headers: req.headers,
      body,
      userTexts: messages.filter((m) => m.role === 'user').map((m) => String(m.content ?? '')),
    });
    // A tool result continues the turn that asked for the tool; anything else starts the next turn.
    const continues = messages.at(-1)?.role === 'tool' && current?.kind === 'shell';
    const turn: Turn =
      continues && current?.kind === 'shell' ? { kind: 'text', text: current.then } : nextTurn();
    if (!continues) current = turn;
    reply(res, turn, {
      model: request.model,
      stream: request.stream !== false,
      promptTokens: tokens(messages),
    });
  });

  function nextTurn(): Turn {
    return turns.shift() ?? { kind: 'text', text: 'ok' };
  }

  function reply(
    res: ServerResponse,
    turn: Turn,
    options: { model: string; stream: boolean; promptTokens: number },
  ) {
    if (turn.kind === 'error') return json(res, turn.status, { error: turn.message });
    const chunk = (message: Record<string, unknown>) => ({
      model: options.model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '', ...message },
      done: false,
    });
    const pieces =
      turn.kind === 'shell'
        ? [chunk({ tool_calls: [{ function: { name: 'shell', arguments: { command: turn.command } } }] })]
        : words(turn.text).map((piece) => chunk({ content: piece }));
    const text = turn.kind === 'shell' ? '' : turn.text;
    const done = {
      ...chunk({}),
      done: true,
      done_reason: 'stop',
      total_duration: 1_000_000,
      load_duration: 1_000,
      prompt_eval_count: options.promptTokens,
      prompt_eval_duration: 500_000,
      eval_count: Math.max(1, pieces.length),
      eval_duration: 400_000,
    };
    if (!options.stream) {
      if (turn.kind === 'stall') return stall.open(); // never answers
      const toolCalls = turn.kind === 'shell' ? pieces[0]?.message : {};
      return json(res, 200, { ...done, message: { role: 'assistant', content: text, ...toolCalls } });
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const send = (value: unknown) => res.write(`${JSON.stringify(value)}\n`);
    if (turn.kind === 'stall') {
      send(pieces[0] ?? chunk({}));
      stall.open();
      return; // the stream stays open, never done
    }
    pieces.forEach(send);
    send(done);
    res.end();
  }

  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    script(next) {
      turns = [...next];
      current = undefined;
    },
    stalled: () => stall.wait(),
    close: () => server.close(),
  };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
}

/** Streams a text in word-sized pieces, as a model does. */
function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

/** A rough count (four characters a token), so usage grows with the conversation. */
function tokens(messages: ChatMessage[]): number {
  return Math.max(1, Math.ceil(messages.reduce((n, m) => n + String(m.content ?? '').length, 0) / 4));
}

function tagOf(name: string) {
  return {
    name,
    model: name,
    modified_at: new Date(0).toISOString(),
    size: 1,
    digest: '0'.repeat(64),
    details: {
      format: 'gguf',
      family: 'qwen',
      families: ['qwen'],
      parameter_size: '1B',
      quantization_level: 'Q4_0',
    },
  };
}
