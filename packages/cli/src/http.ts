/**
 * The hub client's HTTP(S) on `node:http` / `node:https`. Node's global `fetch` loads undici on first
 * use, which costs a quick command like `gantry whoami` more than all the rest of its work.
 * What the client needs of fetch is here: a status, JSON or a streamed body, an abort signal (whose
 * reason is what the promise or the body rejects with, as fetch does), redirects, and TLS with the
 * system's and NODE_EXTRA_CA_CERTS's authorities. A connection error keeps its `code` (ECONNREFUSED,
 * DEPTH_ZERO_SELF_SIGNED_CERT, ...).
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  /** The body as JSON; rejects when it is not. */
  json(): Promise<unknown>;
  /** The body as it comes. */
  body: AsyncIterable<Buffer>;
  /** Drops the rest of the body. */
  cancel(): void;
}

const maxRedirects = 20;

export async function httpSend(url: string, init: HttpInit = {}): Promise<HttpResponse> {
  let target = new URL(url);
  let { method = 'GET', body } = init;
  const headers = { ...init.headers };
  for (let redirects = 0; ; redirects++) {
    const response = await once(target, { method, headers, body, signal: init.signal });
    const location = response.headers.location;
    if (
      !location ||
      ![301, 302, 303, 307, 308].includes(response.statusCode ?? 0) ||
      redirects >= maxRedirects
    )
      return wrap(response, init.signal);
    response.resume();
    const next = new URL(location, target);
    // As fetch does: a 303 (and a POST answered 301/302) goes on as a GET without a body, and
    // credentials are not sent to another origin.
    if (
      response.statusCode === 303 ||
      (method === 'POST' && response.statusCode !== 307 && response.statusCode !== 308)
    ) {
      method = 'GET';
      body = undefined;
      delete headers['content-type'];
    }
    if (next.origin !== target.origin) delete headers.authorization;
    target = next;
  }
}

interface Request {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal?: AbortSignal;
}

/** One request; a kept-alive socket the server closed meanwhile is retried once on a new one. */
function once(url: URL, init: Request, retried = false): Promise<IncomingMessage> {
  const { signal } = init;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const err = Object.assign(new Error(`unsupported protocol ${url.protocol}`), {
      code: 'ERR_INVALID_PROTOCOL',
    });
    return Promise.reject(err);
  }
  const headers: OutgoingHttpHeaders = { ...init.headers };
  if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: init.method, headers });
    const onAbort = () => req.destroy(signal?.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err: Error & { code?: string }) => {
      signal?.removeEventListener('abort', onAbort);
      const stale = req.reusedSocket && err.code === 'ECONNRESET' && !retried && !signal?.aborted;
      if (stale) resolve(once(url, init, true));
      else reject(err);
    });
    req.once('response', (response) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(response);
    });
    req.end(init.body);
  });
}

/** The body rejects with the signal's reason once it aborts, as fetch's does. */
function wrap(response: IncomingMessage, signal: AbortSignal | undefined): HttpResponse {
  const status = response.statusCode ?? 0;
  if (signal) {
    const onAbort = () => response.destroy(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    response.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return {
    status,
    ok: status >= 200 && status < 300,
    body: response,
    cancel: () => response.destroy(),
    async json() {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    },
  };
}
