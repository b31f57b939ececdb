/** The CLI's client for the hub's REST API and its SSE event streams. */
import { createParser } from 'eventsource-parser';
import {
  assignmentEventSchema,
  assignmentSchema,
  errorBodySchema,
  GantryError,
  type Assignment,
  type AssignmentEvent,
  type ErrorCode,
} from '@gantry/protocol';
import type { z } from 'zod';
import { resolveHub, type HubOptions, type ResolvedHub } from './credentials.ts';

export class HubClient {
  constructor(readonly hub: ResolvedHub) {}

  static from(options: HubOptions): HubClient {
    return new HubClient(resolveHub(options));
  }

  get url(): string {
    return this.hub.url;
  }

  async request<T extends z.ZodType>(
    method: string,
    path: string,
    schema: T,
    body?: unknown,
  ): Promise<z.infer<T>> {
    const response = await this.fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) throw errorFrom(response.status, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new GantryError('internal', `unexpected answer from the hub for ${method} ${path}`);
    return parsed.data;
  }

  /**
   * Follows an assignment's events over SSE until it ends, resuming with Last-Event-ID after a
   * dropped connection. Resolves with the final assignment.
   */
  async follow(
    id: string,
    handlers: {
      onEvent?: (e: AssignmentEvent) => void;
      onState?: (a: Assignment) => void;
      signal?: AbortSignal;
    },
  ): Promise<Assignment> {
    let lastId: string | undefined;
    let failures = 0;
    for (;;) {
      let final: Assignment | undefined;
      try {
        const response = await this.fetch(`/v1/assignments/${encodeURIComponent(id)}/events`, {
          headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
          signal: handlers.signal,
        });
        if (!response.ok) throw errorFrom(response.status, await response.json().catch(() => undefined));
        const parser = createParser({
          onEvent: (message) => {
            if (message.event === 'event') {
              lastId = message.id ?? lastId;
              handlers.onEvent?.(assignmentEventSchema.parse(JSON.parse(message.data)));
            } else if (message.event === 'state' || message.event === 'end') {
              const assignment = assignmentSchema.parse(JSON.parse(message.data));
              handlers.onState?.(assignment);
              if (message.event === 'end') final = assignment;
            }
          },
        });
        const decoder = new TextDecoder();
        for await (const chunk of response.body ?? []) {
          parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
          failures = 0;
        }
      } catch (err) {
        if (handlers.signal?.aborted) throw err;
        if (err instanceof GantryError && err.code !== 'unavailable') throw err;
        if (++failures > 5) throw err;
      }
      if (final) return final;
      // The stream ended early (hub restart, network): resume where we were, after a pause.
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** failures)));
    }
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.hub.token) headers.set('authorization', `Bearer ${this.hub.token}`);
    try {
      return await fetch(`${this.hub.url}${path}`, { ...init, headers });
    } catch (err) {
      if ((err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new GantryError(
        'unavailable',
        `cannot reach the hub at ${this.hub.url} (${cause}); is it running? Start one with \`gantry up\`, or pass --hub URL`,
      );
    }
  }
}

function errorFrom(status: number, json: unknown): GantryError {
  const body = errorBodySchema.safeParse(json);
  if (!body.success) return new GantryError('internal', `the hub answered HTTP ${status}`);
  const { code, message } = body.data.error;
  if (code === 'unauthorized') {
    return new GantryError(
      'unauthorized',
      `${message}: log in with \`gantry login\` or pass --token / GANTRY_TOKEN`,
    );
  }
  return new GantryError(code as ErrorCode, message);
}
