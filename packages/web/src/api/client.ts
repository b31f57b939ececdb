/**
 * Every call to the hub: same origin, the session cookie (HttpOnly, never seen here), and the CSRF
 * token on state-changing requests. Errors become `ApiError` with the hub's code and message.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

/** The session's CSRF token, kept in memory only (a reload asks the hub for it again). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the hub answers 401: the session ended (signed out elsewhere, token revoked). */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** A raw body (a file upload) sent as is, with this content type. */
  raw?: { body: Blob; contentType: string };
  signal?: AbortSignal;
  /** Do not report a 401 as a lost session (signing in answers 401 for a bad token). */
  quiet401?: boolean;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let body: BodyInit | undefined;
  if (options.raw) {
    headers['content-type'] = options.raw.contentType;
    body = options.raw.body;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ApiError(0, 'unavailable', 'the hub cannot be reached; check that it is running');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json = parse(text);
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (response.status === 401 && !options.quiet401) onUnauthorized?.();
    throw new ApiError(
      response.status,
      error?.code ?? 'internal',
      error?.message ?? `the hub answered ${response.status} ${response.statusText}`,
    );
  }
  return json as T;
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A path segment: context keys may hold `/`, which the hub takes as `%2F`. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
