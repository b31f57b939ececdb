/**
 * Fake model servers for the provider tests: each speaks one real model API on 127.0.0.1 (OpenAI
 * Responses for Codex, Anthropic Messages for Claude Code and the Claude ACP adapter, Ollama's chat
 * API) and answers from a script of turns, so the real agent CLIs run offline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the model answers to one user prompt. */
export type Turn =
  /** A plain text reply. */
  | { kind: 'text'; text: string }
  /** A shell tool call running `command`; once the tool's result comes back, the reply `then`. */
  | { kind: 'shell'; command: string; then: string }
  /** The API fails with this HTTP status and message. */
  | { kind: 'error'; status: number; message: string }
  /** Starts streaming `text` and then never finishes (for cancel and timeout). */
  | { kind: 'stall'; text: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** The text of every user message in the request, in order (the conversation so far). */
  userTexts: string[];
}

export interface FakeModel {
  /** The base URL to hand to the CLI (as the API family expects it, e.g. with `/v1` for OpenAI). */
  readonly url: string;
  /** Every model request (not health checks or other lookups), in order. */
  readonly requests: RecordedRequest[];
  /**
   * The turns to answer with, in order, one per new user prompt (a tool result continues the
   * current turn). With no turn left, the fake answers `ok`.
   */
  script(turns: Turn[]): void;
  /** Resolves once a `stall` turn has started streaming. */
  stalled(): Promise<void>;
  close(): Promise<void>;
}

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: unknown;
}

/** A server on 127.0.0.1:0 that reads JSON bodies and hands every request to `handle`. */
export async function listen(handle: (exchange: Exchange) => void | Promise<void>): Promise<{
  server: Server;
  port: number;
  close(): Promise<void>;
}> {
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.once('close', () => open.delete(res));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      Promise.resolve(handle({ req, res, path, body })).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: (err as Error).message } }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Starts an SSE response; `send(event, data)` writes one `event:`/`data:` pair. */
export function sse(res: ServerResponse): {
  send(event: string | undefined, data: unknown): void;
  end(): void;
} {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  return {
    send(event, data) {
      res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
    },
    end: () => res.end(),
  };
}

/** A one-shot latch: `wait()` resolves once `open()` was called. */
export function latch(): { open(): void; wait(): Promise<void> } {
  let resolve!: () => void;
  const opened = new Promise<void>((r) => (resolve = r));
  return { open: () => resolve(), wait: () => opened };
}
