/**
 * The hub's REST API over real HTTP: a hub on a random port with a temporary SQLite file, driven
 * with `fetch`. Proves authentication, the owner/agent permission split, input validation, the
 * assignment lifecycle reachable without a gateway (create, list, show, cancel, events) and gateway
 * registration, asserting status codes and wire error codes throughout, and that nothing is a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentSchema,
  assignmentSchema,
  createdAgentSchema,
  errorBodySchema,
  gatewayConnectResultSchema,
  gatewaySchema,
  meSchema,
  type ErrorCode,
} from '../../protocol/src/index.ts';
import type { RunningHub } from '../src/server.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

let temp: TempHub;
let hub: RunningHub;
let ownerToken: string;

beforeAll(async () => {
  temp = await startTempHub('gantry-rest-');
  ({ hub, ownerToken } = temp);
});

afterAll(() => temp?.stop());

// ---- helpers -----------------------------------------------------------------------------------

interface CallOptions {
  method?: string;
  /** The bearer token; the owner's unless given, none when null. */
  token?: string | null;
  /** Sent as JSON with Content-Type application/json. */
  json?: unknown;
  /** Sent as is, with `contentType` (for bodies that are not valid JSON, or are streamed). */
  raw?: string | ReadableStream<Uint8Array>;
  contentType?: string;
  headers?: Record<string, string>;
}

interface Reply {
  status: number;
  body: unknown;
}

/** One request; every reply must be JSON and never a 5xx. */
async function call(path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ownerToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: CallOptions['raw'];
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.raw !== undefined) {
    body = options.raw;
    if (options.contentType) headers['content-type'] = options.contentType;
  }
  const method = options.method ?? (body === undefined ? 'GET' : 'POST');
  const res = await fetch(`${hub.url}${path}`, { method, headers, body, duplex: 'half' });
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(500);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  return { status: res.status, body: JSON.parse(text) as unknown };
}

/** Asserts an error reply: its status and the `{ error: { code, message } }` body. */
function expectError(reply: Reply, status: number, code: ErrorCode): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  const body = errorBodySchema.parse(reply.body);
  expect(body.error.code).toBe(code);
  expect(body.error.message).not.toBe('');
}

function expectOk(reply: Reply, status = 200): unknown {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  return reply.body;
}

let agentCount = 0;

/** Creates an agent as the owner; returns it with its key. */
async function newAgent(prefix = 'agent') {
  agentCount += 1;
  const reply = await call('/v1/agents', { json: { name: `${prefix}-${agentCount}` } });
  return createdAgentSchema.parse(expectOk(reply, 201));
}

async function newAssignment(agent: string, prompt = 'say hello') {
  const reply = await call('/v1/assignments', { json: { agent, prompt } });
  return assignmentSchema.parse(expectOk(reply, 201));
}

// ---- tests -------------------------------------------------------------------------------------

describe('health', () => {
  it('answers without auth', async () => {
    const body = expectOk(await call('/v1/health', { token: null }));
    expect(body).toMatchObject({ ok: true, store: 'sqlite' });
  });
});

describe('authentication', () => {
  const wellFormedUnknown = `gnt_u_tok_0000000000aaaaaaaaaaaaaaaa.${'A'.repeat(43)}`;

  it.each([
    ['no token', { token: null }],
    ['a malformed token', { token: 'not-a-token' }],
    ['a non-bearer scheme', { token: null, headers: { authorization: 'Basic b3duZXI6cHc=' } }],
    ['a well-formed but unknown token', { token: wellFormedUnknown }],
  ] satisfies [string, CallOptions][])('rejects %s with 401', async (_what, options) => {
    expectError(await call('/v1/me', options), 401, 'unauthorized');
  });

  it('rejects a known token id with the wrong secret', async () => {
    const forged = ownerToken.replace(/\.[^.]+$/, `.${'B'.repeat(43)}`);
    expect(forged).not.toBe(ownerToken);
    expectError(await call('/v1/me', { token: forged }), 401, 'unauthorized');
  });

  it('rejects a token of one kind presented as another', async () => {
    const asAgent = ownerToken.replace(/^gnt_u_/, 'gnt_a_');
    expectError(await call('/v1/me', { token: asAgent }), 401, 'unauthorized');
  });
});

describe('owner: me and agents', () => {
  it('GET /v1/me names the owner and the default workspace', async () => {
    const me = meSchema.parse(expectOk(await call('/v1/me')));
    expect(me.principal).toMatchObject({ kind: 'user', name: 'owner', role: 'owner' });
    expect(me.workspace.name).toBe('default');
  });

  it('creates an agent with a key shown once', async () => {
    const reply = await call('/v1/agents', { json: { name: 'builder' } });
    const agent = createdAgentSchema.parse(expectOk(reply, 201));
    expect(agent).toMatchObject({ name: 'builder', kind: 'managed', gateways: [] });
    expect(agent.key).toMatch(/^gnt_a_/);
  });

  it('refuses a duplicate name with 409', async () => {
    expectError(await call('/v1/agents', { json: { name: 'builder' } }), 409, 'conflict');
  });

  it.each([
    ['an upper-case name', { name: 'Builder' }],
    ['a name with spaces', { name: 'my agent' }],
    ['an empty name', { name: '' }],
    ['a name over 63 characters', { name: 'a'.repeat(64) }],
    ['no name', {}],
    ['an unknown field', { name: 'ok-name', colour: 'blue' }],
  ])('refuses %s with 400', async (_what, json) => {
    expectError(await call('/v1/agents', { json }), 400, 'invalid_request');
  });

  it('lists agents and finds one by name and by id', async () => {
    const agent = await newAgent();
    const list = agentSchema.array().parse(expectOk(await call('/v1/agents')));
    expect(list.map((a) => a.name)).toEqual(expect.arrayContaining(['builder', agent.name]));

    const { key: _key, ...view } = agent;
    for (const ref of [agent.name, agent.id]) {
      expect(agentSchema.parse(expectOk(await call(`/v1/agents/${ref}`)))).toEqual(view);
    }
  });

  it('answers 404 for an unknown agent', async () => {
    expectError(await call('/v1/agents/nobody'), 404, 'not_found');
  });
});

describe('agent keys', () => {
  it('may read /v1/me as the agent, but not manage agents or gateways', async () => {
    const agent = await newAgent('keyed');
    const me = meSchema.parse(expectOk(await call('/v1/me', { token: agent.key })));
    expect(me.principal).toMatchObject({ kind: 'agent', id: agent.id, name: agent.name });

    const create = await call('/v1/agents', { token: agent.key, json: { name: 'sneaky' } });
    expectError(create, 403, 'forbidden');
    expectError(await call('/v1/gateways', { token: agent.key }), 403, 'forbidden');
    expectError(await call('/v1/agents/sneaky'), 404, 'not_found'); // the refused create left nothing
  });
});

describe('POST /v1/assignments', () => {
  let agentName: string;

  beforeAll(async () => {
    agentName = (await newAgent('worker')).name;
  });

  it('refuses malformed JSON', async () => {
    const reply = await call('/v1/assignments', { raw: '{"agent": ', contentType: 'application/json' });
    expectError(reply, 400, 'invalid_request');
  });

  it('refuses a body that is not JSON', async () => {
    const raw = JSON.stringify({ agent: agentName, prompt: 'hi' });
    expectError(await call('/v1/assignments', { raw, contentType: 'text/plain' }), 400, 'invalid_request');
    expectError(await call('/v1/assignments', { raw }), 400, 'invalid_request');
  });

  it.each([
    ['a number for the prompt', { prompt: 42 }],
    ['a string for timeoutMs', { prompt: 'hi', timeoutMs: '100' }],
    ['an unknown mode', { prompt: 'hi', mode: 'resume' }],
    ['no prompt', {}],
    ['an empty prompt', { prompt: '' }],
    ['an unknown field', { prompt: 'hi', priority: 'high' }],
  ])('refuses %s with 400', async (_what, fields) => {
    const reply = await call('/v1/assignments', { json: { agent: agentName, ...fields } });
    expectError(reply, 400, 'invalid_request');
  });

  it('refuses a JSON array or null as the body', async () => {
    for (const json of [[], null]) {
      const reply = await call('/v1/assignments', {
        raw: JSON.stringify(json),
        contentType: 'application/json',
      });
      expectError(reply, 400, 'invalid_request');
    }
  });

  it('answers 404 for an unknown agent', async () => {
    const reply = await call('/v1/assignments', { json: { agent: 'ghost', prompt: 'hi' } });
    expectError(reply, 404, 'not_found');
  });

  it('creates a queued assignment with the defaults filled in', async () => {
    const reply = await call('/v1/assignments', { json: { agent: agentName, prompt: 'say hello' } });
    const assignment = assignmentSchema.parse(expectOk(reply, 201));
    expect(assignment).toMatchObject({
      state: 'queued',
      attempt: 1,
      prompt: 'say hello',
      sessionKey: 'default',
      mode: 'new',
      agent: { id: expect.any(String), name: agentName },
      gatewayId: null,
      result: null,
      error: null,
    });
  });
});

describe('reading assignments', () => {
  let alpha: string;
  let beta: string;
  let first: string;

  beforeAll(async () => {
    alpha = (await newAgent('alpha')).name;
    beta = (await newAgent('beta')).name;
    first = (await newAssignment(alpha)).id;
    await newAssignment(beta);
  });

  async function list(query: string) {
    return assignmentSchema.array().parse(expectOk(await call(`/v1/assignments${query}`)));
  }

  it('lists all assignments, and filters by agent and by state', async () => {
    expect((await list('')).length).toBeGreaterThanOrEqual(2);
    const byAlpha = await list(`?agent=${alpha}`);
    expect(byAlpha.map((a) => a.id)).toEqual([first]);
    const queued = await list('?state=queued');
    expect(queued.length).toBeGreaterThanOrEqual(2);
    expect(queued.every((a) => a.state === 'queued')).toBe(true);
  });

  it('refuses a bad filter', async () => {
    expectError(await call('/v1/assignments?state=sleeping'), 400, 'invalid_request');
    expectError(await call('/v1/assignments?limit=0'), 400, 'invalid_request');
    expectError(await call('/v1/assignments?agent=ghost'), 404, 'not_found');
  });

  it('shows one assignment, and 404 for an unknown id', async () => {
    const shown = assignmentSchema.parse(expectOk(await call(`/v1/assignments/${first}`)));
    expect(shown).toMatchObject({ id: first, agent: { name: alpha }, state: 'queued' });
    expectError(await call('/v1/assignments/asg_nope'), 404, 'not_found');
  });

  it('serves an empty event list for a new assignment, and refuses a bad cursor', async () => {
    expect(expectOk(await call(`/v1/assignments/${first}/events`))).toEqual([]);
    expect(expectOk(await call(`/v1/assignments/${first}/events?since=1:0`))).toEqual([]);
    expectError(await call(`/v1/assignments/${first}/events?since=garbage`), 400, 'invalid_request');
    expectError(await call('/v1/assignments/asg_nope/events'), 404, 'not_found');
  });
});

describe('cancelling', () => {
  it('ends a queued assignment cancelled, once', async () => {
    const agent = await newAgent('cancel');
    const { id } = await newAssignment(agent.name);
    const reply = await call(`/v1/assignments/${id}/cancel`, { method: 'POST' });
    const cancelled = assignmentSchema.parse(expectOk(reply));
    expect(cancelled).toMatchObject({ id, state: 'cancelled', error: { code: 'cancelled' } });
    expect(cancelled.finishedAt).not.toBeNull();

    expectError(await call(`/v1/assignments/${id}/cancel`, { method: 'POST' }), 409, 'conflict');
    expectError(await call('/v1/assignments/asg_nope/cancel', { method: 'POST' }), 404, 'not_found');
  });
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/v1/nothing-here'],
    ['DELETE', '/v1/agents'],
    ['DELETE', '/elsewhere'],
  ])('%s %s is a 404 with the error shape', async (method, path) => {
    expectError(await call(path, { method }), 404, 'not_found');
  });

  it('answers GET for any other path with the dashboard (here: how to build it), not a JSON 404', async () => {
    const res = await fetch(`${hub.url}/elsewhere`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('the dashboard is not built: run npm run build\n');
  });
});

describe('gateways', () => {
  it('registers with an agent key, re-attaches with its token, and is listed', async () => {
    const agent = await newAgent('gw-agent');
    const input = { name: 'gw1', provider: 'echo' };
    const first = gatewayConnectResultSchema.parse(
      expectOk(await call('/v1/gateways/connect', { token: agent.key, json: input })),
    );
    expect(first.agent).toEqual({ id: agent.id, name: agent.name });
    expect(first.gateway.name).toBe('gw1');
    expect(first.gatewayToken).toMatch(/^gnt_g_/);

    const again = gatewayConnectResultSchema.parse(
      expectOk(
        await call('/v1/gateways/connect', {
          token: agent.key,
          json: { ...input, gatewayId: first.gateway.id, gatewayToken: first.gatewayToken },
        }),
      ),
    );
    expect(again.gateway.id).toBe(first.gateway.id);
    expect(again.gatewayToken).toBeUndefined();

    const gateways = gatewaySchema.array().parse(expectOk(await call('/v1/gateways')));
    const listed = gateways.find((g) => g.id === first.gateway.id);
    expect(listed).toMatchObject({ name: 'gw1', connected: false, runningAttempts: 0 });
    expect(listed?.agents).toEqual([{ id: agent.id, name: agent.name, provider: 'echo' }]);
  });

  it('refuses a user token with 403', async () => {
    const reply = await call('/v1/gateways/connect', { json: { name: 'gw2', provider: 'echo' } });
    expectError(reply, 403, 'forbidden');
  });

  it('registers a new gateway when the re-attach proof is wrong', async () => {
    const agent = await newAgent('gw-proof');
    const input = { name: 'gw3', provider: 'echo' };
    const first = gatewayConnectResultSchema.parse(
      expectOk(await call('/v1/gateways/connect', { token: agent.key, json: input })),
    );
    const reply = await call('/v1/gateways/connect', {
      token: agent.key,
      json: { ...input, gatewayId: first.gateway.id, gatewayToken: agent.key },
    });
    const other = gatewayConnectResultSchema.parse(expectOk(reply));
    expect(other.gateway.id).not.toBe(first.gateway.id);
    expect(other.gatewayToken).toMatch(/^gnt_g_/);
  });

  it('refuses a bad connect body with 400', async () => {
    const agent = await newAgent('gw-bad');
    const reply = await call('/v1/gateways/connect', {
      token: agent.key,
      json: { name: 'GW', provider: '' },
    });
    expectError(reply, 400, 'invalid_request');
  });
});

/** A body of `bytes` bytes (the start of a JSON object) streamed in chunks, so without a Content-Length. */
function streamedBody(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const piece = sent === 0 ? new TextEncoder().encode('{"agent":"anyone","prompt":"') : chunk;
      controller.enqueue(piece);
      sent += piece.length;
    },
  });
}

/** GET /v1/health's status, or why the request failed. */
function healthOutcome(): Promise<number | string> {
  return fetch(`${hub.url}/v1/health`).then(
    (res) => res.status,
    (err: Error) => `${err.message}: ${String((err.cause as Error | undefined)?.message)}`,
  );
}

describe('bodies over 1 MiB', () => {
  const oversized = { agent: 'anyone', prompt: 'x'.repeat(1024 * 1024 + 1) };
  // `Connection: close` keeps a refused connection out of fetch's pool (see the last test).
  const once = { connection: 'close' };

  it('are refused with 413', async () => {
    const reply = await call('/v1/assignments', { json: oversized, headers: once });
    expectError(reply, 413, 'payload_too_large');
  });

  it('are refused with 413 when streamed without a Content-Length', async () => {
    const raw = streamedBody(1024 * 1024 + 64 * 1024);
    const reply = await call('/v1/assignments', { raw, contentType: 'application/json', headers: once });
    expectError(reply, 413, 'payload_too_large');
  });

  it('leave the connection fit for the next requests', async () => {
    // fetch reuses the connection a 413 came back on, as the hub's `Connection: keep-alive` allows.
    expectError(await call('/v1/assignments', { json: oversized }), 413, 'payload_too_large');
    const outcomes = [await healthOutcome(), await healthOutcome(), await healthOutcome()];
    expect(outcomes).toEqual([200, 200, 200]);
  });
});
