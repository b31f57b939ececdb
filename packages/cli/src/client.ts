/**
 * The CLI's client for the hub's REST API and its SSE event streams. It loads no zod and no
 * `fetch` (undici): answers are read with the caller's reader (zod/mini ones from
 * `@gantry/protocol/answers` for the quick commands), so `gantry whoami` starts fast.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ActivityEvent } from '@gantry/protocol';
import {
  accessTokenAnswer,
  assignmentAnswer,
  assignmentEventAnswer,
  errorBodyAnswer,
  type Reader,
} from '@gantry/protocol/answers';
import { GantryError, type ErrorCode } from '@gantry/protocol/core';
import type { AccessToken, Assignment, AssignmentEvent } from '@gantry/protocol';
import { bearerFor, forgetAccessToken, refreshBeforeMs, type Bearer } from './access-token.ts';
import { resolveHub, type HubOptions, type ResolvedHub } from './credentials.ts';
import { httpSend, type HttpInit, type HttpResponse } from './http.ts';
import { requireOneSecret } from './texts.ts';

export class HubClient {
  private bearerCache: Promise<Bearer & { expiresAt?: number }> | undefined;
  /** Which of the hub system's URLs requests go to: the next once one cannot be reached. */
  private current = 0;

  constructor(readonly hub: ResolvedHub) {}

  static from(options: HubOptions): HubClient {
    return new HubClient(resolveHub(options));
  }

  get url(): string {
    return this.hub.urls?.[this.current] ?? this.hub.url;
  }

  async request<T>(
    method: string,
    path: string,
    schema: Reader<T>,
    body?: unknown,
    /** A long-poll gives a longer `timeoutMs` (keep it under Node's 300 s); `signal` stops it early. */
    options: { timeoutMs?: number; signal?: AbortSignal; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const response = await this.fetch(path, {
      method,
      headers: { ...options.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
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
        await this.sse(`/v1/assignments/${encodeURIComponent(id)}/events`, {
          lastEventId: lastId,
          signal: handlers.signal,
          onComment: () => (failures = 0),
          onMessage: (message) => {
            failures = 0;
            if (message.event === 'event') {
              lastId = message.id ?? lastId;
              handlers.onEvent?.(parseData(message.data, assignmentEventAnswer));
            } else if (message.event === 'state' || message.event === 'end') {
              const assignment = parseData(message.data, assignmentAnswer);
              handlers.onState?.(assignment);
              if (message.event === 'end') final = assignment;
            }
          },
        });
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

  /**
   * Follows the workspace's activity log over SSE until `signal` aborts: from `since` (else from
   * now), resuming after a dropped connection with Last-Event-ID, so nothing is missed or repeated.
   * Only the first connection must succeed; after that the hub may be away for `reconnectForMs`.
   */
  async followActivity(options: {
    since?: number;
    /** Start with the newest N entries (instead of `since`). */
    last?: number;
    types?: readonly string[];
    signal: AbortSignal;
    onEvent: (event: ActivityEvent) => void;
    /** Called once the stream is live (with the id it starts after). */
    onReady?: (since: number) => void;
    reconnectForMs?: number;
  }): Promise<never> {
    const { activityEventSchema } = await import('@gantry/protocol');
    const params = new URLSearchParams();
    if (options.types?.length) params.set('type', options.types.join(','));
    // Only until the stream is live: after that it resumes by id.
    if (options.last !== undefined) params.set('last', String(options.last));
    const query = params.size > 0 ? `?${params}` : '';
    let lastId = options.since;
    let connected = false;
    let failingSince: number | undefined;
    let failures = 0;
    for (;;) {
      try {
        await this.sse(`/v1/events${query}`, {
          lastEventId: lastId === undefined ? undefined : String(lastId),
          signal: options.signal,
          onComment: () => (failures = 0),
          onMessage: (message) => {
            failures = 0;
            failingSince = undefined;
            const id = Number(message.id);
            if (message.event === 'ready') {
              lastId ??= id;
              if (!connected) options.onReady?.(id);
              connected = true;
            } else if (message.event === 'activity') {
              // Never twice, even if a hub were to resend what came before the resume point.
              if (lastId !== undefined && id <= lastId) return;
              lastId = id;
              options.onEvent(parseActivity(message.data, activityEventSchema));
            }
          },
        });
      } catch (err) {
        if (options.signal.aborted) throw err;
        if (!connected || (err instanceof GantryError && err.code !== 'unavailable')) throw err;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > (options.reconnectForMs ?? 120_000)) throw err;
      }
      if (options.signal.aborted) throw options.signal.reason;
      failures += 1;
      await sleep(Math.min(5000, 100 * 2 ** failures), options.signal);
    }
  }

  /** Reads one SSE response to its end; an error answer throws as a GantryError. */
  private async sse(
    path: string,
    options: {
      lastEventId?: string;
      signal?: AbortSignal;
      onMessage: (message: EventSourceMessage) => void;
      onComment?: (comment: string) => void;
    },
  ): Promise<void> {
    const response = await this.fetch(path, {
      headers: {
        accept: 'text/event-stream',
        ...(options.lastEventId !== undefined ? { 'last-event-id': options.lastEventId } : {}),
      },
      signal: options.signal,
    });
    if (!response.ok) throw errorFrom(response.status, await response.json().catch(() => undefined));
    const parser = createParser({ onEvent: options.onMessage, onComment: options.onComment });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    }
  }

  private async fetch(path: string, init: HttpInit, retry = true): Promise<HttpResponse> {
    const headers = { ...init.headers };
    // A person in several workspaces picks one per request (`--workspace`, GANTRY_WORKSPACE).
    if (this.hub.workspace) headers['x-gantry-workspace'] = this.hub.workspace;
    const bearer = await this.bearer();
    if (bearer) headers.authorization = `Bearer ${bearer.token}`;
    const response = await this.send(path, { ...init, headers });
    // A cached access token the hub no longer takes (a new signing key, say): once more with a fresh one.
    if (response.status === 401 && bearer?.cached && retry && this.hub.token) {
      response.cancel();
      forgetAccessToken(this.url, this.hub.token);
      this.bearerCache = undefined;
      return this.fetch(path, init, false);
    }
    return response;
  }

  /**
   * What goes in the Authorization header: an access token from `POST /v1/auth/exchange` (cached
   * on disk and here), so the long-lived token itself travels only on the exchange.
   */
  private async bearer(): Promise<Bearer | undefined> {
    const token = this.hub.token;
    if (!token) return undefined;
    requireOneSecret(token, 'the token', 'give exactly one (`gantry auth doctor` says where it came from)');
    const held = await this.bearerCache?.catch(() => undefined);
    // No expiry: the token itself is sent (an older hub), and that does not change while we run.
    if (held && (held.expiresAt === undefined || held.expiresAt - Date.now() > refreshBeforeMs)) return held;
    this.bearerCache = bearerFor(this.url, token, () => this.exchange(token));
    return this.bearerCache;
  }

  private async exchange(token: string): Promise<AccessToken | undefined> {
    const response = await this.send('/v1/auth/exchange', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(30_000),
    });
    const json: unknown = await response.json().catch(() => undefined);
    // An older hub has no such route: the long-lived token is used directly.
    if (response.status === 404) return undefined;
    if (!response.ok) throw errorFrom(response.status, json);
    const parsed = accessTokenAnswer.safeParse(json);
    if (!parsed.success)
      throw new GantryError('internal', 'unexpected answer from the hub for the token exchange');
    return parsed.data;
  }

  private async send(path: string, init: HttpInit): Promise<HttpResponse> {
    try {
      return await httpSend(`${this.url}${path}`, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') throw err;
      const cause = (err as { code?: string }).code ?? (err as Error).message;
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(cause))
        throw new GantryError(
          'unavailable',
          `the hub at ${this.url} answered with a TLS certificate this machine does not trust (${cause}); ` +
            'for a self-signed one, set NODE_EXTRA_CA_CERTS to its PEM file',
        );
      // Another URL of the hub system (`--hub A,B`): the request goes there.
      const urls = this.hub.urls ?? [this.hub.url];
      if (this.current + 1 < urls.length) {
        this.current += 1;
        return this.send(path, init);
      }
      throw new GantryError(
        'unavailable',
        `cannot reach the hub at ${urls.join(', ')} (${cause}); is it running? Start one with \`gantry up\`, or pass --hub URL`,
      );
    }
  }
}

function errorFrom(status: number, json: unknown): GantryError {
  const body = errorBodyAnswer.safeParse(json);
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

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** An assignment's SSE message; one the hub should never send fails this stream (it is resumed). */
function parseData<T>(data: string, reader: Reader<T>): T {
  const parsed = reader.safeParse(JSON.parse(data));
  if (!parsed.success) throw new Error('unexpected assignment event from the hub');
  return parsed.data;
}

function parseActivity(data: string, schema: Reader<ActivityEvent>): ActivityEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  // Not a reason to reconnect: the same entry would come again.
  if (!parsed.success) throw new GantryError('internal', 'unexpected activity event from the hub');
  return parsed.data;
}
