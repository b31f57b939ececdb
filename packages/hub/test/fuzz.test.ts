/**
 * Property-based fuzzing of the hub's two front doors against a real hub (random port, temporary
 * SQLite file), with fast-check.
 *
 * REST: generated bodies (arbitrary JSON, broken JSON, valid objects of each endpoint mutated with
 * wrong types, out-of-range values, missing and unknown keys, bodies over 1 MiB) for the three POST
 * endpoints, and generated ids, refs and cursors in paths, always get a 2xx or a 4xx with the
 * `{ error: { code, message } }` shape and a protocol error code, never a 5xx; a refused request
 * must not spoil its keep-alive connection for the next one.
 *
 * WebSocket: generated frames (text, binary, JSON, frames of every gateway type with wrong fields),
 * before and after a valid hello, each get exactly the reply the protocol promises: an `error`
 * frame with the right code for an invalid one (before hello, followed by a 1008 close), and for a
 * valid frame that names nothing the gateway holds, a revoke, an ack or nothing. A served peer past
 * 20 invalid frames is closed with 1008; before hello, frames of any kind and size (text, invalid
 * UTF-8, binary, up to 128 KiB) always end in an error frame and a close, never a hub that stops
 * answering. MCP tool calls are fuzzed in mcp-fuzz.test.ts.
 * a heartbeat never earns offers for agents the gateway does not serve, and the hub stays healthy:
 * a normal assignment round trip still works at the end.
 */
import { connect, type Socket } from 'node:net';
import { isUtf8 } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  agentSchema,
  approvalSchema,
  assignmentEventSchema,
  assignmentSchema,
  createdAgentSchema,
  durationLimits,
  errorBodySchema,
  errorCodes,
  gatewayConnectResultSchema,
  gatewayFrameSchema,
  httpStatus,
  hubFrameSchema,
  type ErrorCode,
  type GatewayFrame,
  type HubFrame,
} from '../../protocol/src/index.ts';
import { maxBodyBytes } from '../src/http/app.ts';
import type { RunningHub } from '../src/server.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

let temp: TempHub;
let hub: RunningHub;
let ownerToken: string;

beforeAll(async () => {
  temp = await startTempHub('gantry-fuzz-');
  ({ hub, ownerToken } = temp);
});

afterAll(async () => {
  await Promise.all(Object.values(peers).map((peer) => peer?.close()));
  await temp?.stop();
});

const numRuns = 150;
/** Long enough for a dispatch pass a frame kicked off to have sent its offers. */
const dispatchMs = 50;

// ---- REST helpers --------------------------------------------------------------------------------

interface Call {
  method: 'GET' | 'POST';
  path: string;
  token: string;
  body?: string;
  contentType?: string;
}

interface Reply {
  status: number;
  body: unknown;
}

/** Creates an assignment as the owner (it must succeed) and returns its id. */
async function createAssignment(agent: string, prompt: string): Promise<string> {
  const reply = await send({
    method: 'POST',
    path: '/v1/assignments',
    token: ownerToken,
    body: JSON.stringify({ agent, prompt }),
    contentType: 'application/json',
  });
  expect(reply.status).toBe(201);
  return assignmentSchema.parse(reply.body).id;
}

/**
 * One request, checked against the contract every reply must keep: never a 5xx, always JSON, and
 * an error is `{ error: { code, message } }` with a protocol code whose status it is.
 */
async function send(request: Call): Promise<Reply> {
  // A new connection per request: a refused request can spoil its connection for the next one
  // (see 'a request refused before its body is read ...' below), which would blame the wrong input.
  const headers: Record<string, string> = { authorization: `Bearer ${request.token}`, connection: 'close' };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  const res = await fetch(`${hub.url}${request.path}`, {
    method: request.method,
    headers,
    body: request.body,
  });
  const text = await res.text();
  const what = `${request.method} ${request.path} -> ${res.status} ${text.slice(0, 500)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.headers.get('content-type') ?? '', what).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(text);
  if (!res.ok) {
    const parsed = errorBodySchema.safeParse(body);
    expect(parsed.success, what).toBe(true);
    const code = parsed.data?.error.code ?? '';
    expect(errorCodes, what).toContain(code);
    expect(httpStatus[code as ErrorCode], what).toBe(res.status);
    expect(parsed.data?.error.message, what).not.toBe('');
  }
  return { status: res.status, body };
}

/** POSTs a generated body, and checks the 413 promise for one over the limit. */
async function post(path: string, token: string, body: Body): Promise<Reply> {
  const reply = await send({ method: 'POST', path, token, body: body.text, contentType: body.contentType });
  if (Buffer.byteLength(body.text) > maxBodyBytes) {
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ error: { code: 'payload_too_large' } });
  }
  return reply;
}

/** True when the URL keeps the path as built (no `.`/`..` segment that the URL parser resolves). */
function keptAsIs(path: string): boolean {
  return new URL(path, hub.url).pathname === path.split('?')[0];
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 connection driven by hand, so that a test knows which requests share it (fetch's
 * pool decides that on its own). Understands only responses with a Content-Length.
 */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined); // a close follows
  }

  static open(): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(hub.port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** The next response, or undefined when the hub closes the connection without one. */
  async response(timeoutMs = 5_000): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = this.take();
      if (response) return response;
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error(`no response within ${timeoutMs}ms`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private take(): RawResponse | undefined {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine = '', ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (headers['content-length'] === undefined) throw new Error(`no Content-Length: ${statusLine}`);
    const length = Number(headers['content-length']);
    if (this.buffer.length < end + 4 + length) return undefined;
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString();
    this.buffer = this.buffer.subarray(end + 4 + length);
    return { status: Number(statusLine.split(' ')[1]), headers, body };
  }
}

// ---- REST generators -----------------------------------------------------------------------------

interface Body {
  text: string;
  contentType: string | undefined;
}

/** Strings of every kind: printable ASCII, any code point (controls, lone surrogates), graphemes. */
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** A value of the wrong type or out of range for almost any field. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0.5, 1e308, 2 ** 53, -(2 ** 53), '', ' ', [], {}),
  fc.constantFrom('x'.repeat(65), 'x'.repeat(201), '1000', 'null', 'new', '__proto__'),
);

const unknownKey = fc.oneof(
  anyString,
  fc.constantFrom('__proto__', 'constructor', 'toString', 'priority', 'AGENT', 'agent ', 't'),
);

/** An object type to fuzz: a valid value per key, and wrong or out-of-range values for some keys. */
interface Shape {
  valid: Record<string, fc.Arbitrary<unknown>>;
  required: string[];
  edges?: Record<string, unknown[]>;
}

type Mutation = { set: string; to: unknown } | { drop: string } | { add: string; to: unknown };

/** One change that (usually) breaks a valid object: a wrong value, a missing key, an unknown key. */
function mutation(shape: Shape): fc.Arbitrary<Mutation> {
  const keys = Object.keys(shape.valid);
  const wrongFor = (key: string) => {
    const edges = shape.edges?.[key] ?? [];
    return edges.length > 0 ? fc.oneof(wrongValue, fc.constantFrom(...edges)) : wrongValue;
  };
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.oneof(...keys.map((key) => fc.record({ set: fc.constant(key), to: wrongFor(key) }))),
    },
    { weight: 1, arbitrary: fc.record({ drop: fc.constantFrom(...keys) }) },
    { weight: 1, arbitrary: fc.record({ add: unknownKey, to: fc.jsonValue({ maxDepth: 1 }) }) },
  );
}

function applyMutations(object: Record<string, unknown>, changes: Mutation[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...object };
  for (const change of changes) {
    if ('drop' in change) delete out[change.drop];
    else {
      // defineProperty, so that a key such as `__proto__` becomes an own key and is serialized.
      const key = 'set' in change ? change.set : change.add;
      Object.defineProperty(out, key, {
        value: change.to,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}

/** Valid objects of a shape, left alone `clean` times in `clean + dirty`, else with 1 to 3 mutations. */
function objects(shape: Shape, weights = { clean: 2, dirty: 3 }): fc.Arbitrary<Record<string, unknown>> {
  const changes = fc.oneof(
    { weight: weights.clean, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: weights.dirty, arbitrary: fc.array(mutation(shape), { minLength: 1, maxLength: 3 }) },
  );
  return fc
    .tuple(fc.record(shape.valid, { requiredKeys: shape.required }), changes)
    .map(([object, list]) => applyMutations(object, list));
}

/** Elements of a nested array: mostly valid. */
const nested = { clean: 8, dirty: 1 };

const brokenJson = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value) ?? ''),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.nat()).map(([value, cut]) => {
    const text = JSON.stringify(value) ?? '';
    return text.slice(0, cut % (text.length + 1));
  }),
  fc.constantFrom(
    '',
    ' ',
    '{',
    '{"agent": ',
    '{"agent":"x","prompt":"p",}',
    "{'agent':'x'}",
    '{"prompt":"p","timeoutMs":1e999}',
    '{"prompt":"p","retries":-0}',
    '[]',
    'null',
    'undefined',
    'NaN',
    '\u0000',
    '\uFEFF{}',
    '{"__proto__":{"polluted":true},"agent":"x","prompt":"p"}',
    '{"agent":"x","agent":"y","prompt":"p"}',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  ),
  anyString,
);

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json-patch+json',
      'application/jsonx',
      'text/plain',
      'application/x-www-form-urlencoded',
      undefined,
    ),
  },
);

/** Just over the limit: a create-assignment body with a long prompt. */
const oversized = `{"agent":"fuzz-target","prompt":"${'x'.repeat(maxBodyBytes)}"}`;

/** Request bodies: the endpoint's (mostly mutated) objects, any JSON, broken JSON, or too big. */
function bodies(shaped: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Body> {
  const text = fc.oneof(
    { weight: 6, arbitrary: shaped.map((value) => JSON.stringify(value)) },
    { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value) ?? '') },
    { weight: 3, arbitrary: brokenJson },
    { weight: 1, arbitrary: fc.constant(oversized) },
  );
  return fc.record({ text, contentType });
}

/** A path segment: a known id or name, a tricky one, or any string (always URL-encoded). */
function segment(known: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...known),
    fc.constantFrom('asg_nope', 'agt_nope', '.', '..', '%', '%2F', ' ', 'a/b', '?x=1', '#', '\u0000'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
    fc.string({ minLength: 1, maxLength: 300 }),
  );
}

// ---- REST properties -----------------------------------------------------------------------------

describe('REST: generated bodies and paths', () => {
  let agent: { id: string; name: string; key: string };
  let serviceAgent: string;
  let assignmentIds: string[];
  let gateway: { id: string; token: string };

  beforeAll(async () => {
    const created = await send({
      method: 'POST',
      path: '/v1/agents',
      token: ownerToken,
      body: JSON.stringify({ name: 'fuzz-target' }),
      contentType: 'application/json',
    });
    expect(created.status).toBe(201);
    agent = createdAgentSchema.parse(created.body);

    const service = await send({
      method: 'POST',
      path: '/v1/agents',
      token: ownerToken,
      body: JSON.stringify({ name: 'fuzz-service', kind: 'service' }),
      contentType: 'application/json',
    });
    expect(service.status).toBe(201);
    serviceAgent = createdAgentSchema.parse(service.body).name;

    assignmentIds = [];
    for (const prompt of ['one', 'two', 'three']) {
      assignmentIds.push(await createAssignment(agent.name, prompt));
    }

    const connect = await send({
      method: 'POST',
      path: '/v1/gateways/connect',
      token: agent.key,
      body: JSON.stringify({ name: 'fuzz-gw', provider: 'echo' }),
      contentType: 'application/json',
    });
    expect(connect.status).toBe(200);
    const connected = gatewayConnectResultSchema.parse(connect.body);
    gateway = { id: connected.gateway.id, token: connected.gatewayToken ?? '' };
  });

  const tokens = () => fc.constantFrom(ownerToken, agent.key);

  it('POST /v1/assignments', { timeout: 40_000 }, async () => {
    const shape: Shape = {
      valid: {
        agent: fc.constantFrom(agent.name, agent.id),
        prompt: fc.oneof(fc.string({ minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 })),
        sessionKey: fc.stringMatching(/^[\w.:@/-]{1,200}$/),
        mode: fc.constantFrom('new', 'continue'),
        resumeFallback: fc.constantFrom('fail', 'new'),
        timeoutMs: fc.integer({ min: 1, max: durationLimits.maxTimeoutMs }),
        retries: fc.integer({ min: 0, max: durationLimits.maxRetries }),
      },
      required: ['agent', 'prompt'],
      edges: {
        agent: [serviceAgent, 'ghost', '', 'x'.repeat(201), agent.key],
        prompt: ['', 'x'.repeat(durationLimits.maxPromptBytes + 1)],
        sessionKey: ['', 'a b', 'x'.repeat(201), 'ü', 'a\nb', '../..'],
        mode: ['resume', 'NEW', 'New'],
        resumeFallback: ['FAIL', 'retry', '', null],
        timeoutMs: [0, -1, durationLimits.maxTimeoutMs + 1, 1.5, '100', 2 ** 53, 1e308],
        retries: [-1, durationLimits.maxRetries + 1, 0.5, '1'],
      },
    };
    let created = 0;
    await fc.assert(
      fc.asyncProperty(tokens(), bodies(objects(shape)), async (token, body) => {
        const reply = await post('/v1/assignments', token, body);
        if (reply.status >= 200 && reply.status < 300) {
          expect(reply.status).toBe(201);
          const assignment = assignmentSchema.parse(reply.body);
          expect(assignment.state).toBe('queued');
          expect(assignment.prompt).toBe((JSON.parse(body.text) as { prompt: string }).prompt);
          assignmentIds.push(assignment.id);
          created += 1;
        }
      }),
      { numRuns },
    );
    expect(created, 'some generated bodies are valid').toBeGreaterThan(0);
  });

  it('POST /v1/agents', { timeout: 40_000 }, async () => {
    const shape: Shape = {
      valid: {
        name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,62}$/),
        kind: fc.constantFrom('managed', 'pass_through', 'service'),
      },
      required: ['name'],
      edges: {
        name: [agent.name, 'Builder', 'my agent', '', 'a'.repeat(64), '-a', '.a', '_a', 'a\n', 'ä'],
        kind: ['Managed', 'robot', ''],
      },
    };
    await fc.assert(
      fc.asyncProperty(tokens(), bodies(objects(shape)), async (token, body) => {
        const reply = await post('/v1/agents', token, body);
        if (reply.status < 300) expect(createdAgentSchema.parse(reply.body).key).toMatch(/^gnt_a_/);
      }),
      { numRuns },
    );
  });

  it('POST /v1/gateways/connect', { timeout: 40_000 }, async () => {
    const shape: Shape = {
      valid: {
        name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,62}$/),
        provider: fc.oneof(fc.constantFrom('echo', 'claude'), fc.string({ minLength: 1, maxLength: 64 })),
        hostname: fc.string({ maxLength: 255 }),
        gatewayId: fc.constantFrom(gateway.id, 'gw_nope'),
        gatewayToken: fc.constantFrom(gateway.token, agent.key, ownerToken),
      },
      required: ['name', 'provider'],
      edges: {
        name: ['GW', 'a'.repeat(64), '', '-gw'],
        provider: ['', 'x'.repeat(65)],
        hostname: ['x'.repeat(256)],
        gatewayId: [''],
        gatewayToken: ['', 'gnt_g_x', `gnt_g_tok_0000000000aaaaaaaaaaaaaaaa.${'A'.repeat(43)}`],
      },
    };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(agent.key, agent.key, ownerToken),
        bodies(objects(shape)),
        async (token, body) => {
          const reply = await post('/v1/gateways/connect', token, body);
          if (reply.status < 300) gatewayConnectResultSchema.parse(reply.body);
        },
      ),
      { numRuns },
    );
  });

  it('GET and POST on generated ids, refs and cursors', { timeout: 40_000 }, async () => {
    const since = fc.option(
      fc.oneof(
        fc.tuple(fc.nat(), fc.nat()).map(([attempt, seq]) => `${attempt}:${seq}`),
        fc.nat().map(String),
        fc.constantFrom('', ':', '1:', ':1', '-1', '1e3', '0x10', '999999:999999999999', '9'.repeat(13)),
        fc.constantFrom('1234567:1', '\u0661:\u0662', '1:1:1', ' 1'),
        anyString,
      ),
      { nil: undefined },
    );
    const request = fc.oneof(
      fc.record({ kind: fc.constant('assignment' as const), id: segment(assignmentIds) }),
      fc.record({ kind: fc.constant('agent' as const), id: segment([agent.name, agent.id, serviceAgent]) }),
      fc.record({ kind: fc.constant('events' as const), id: segment(assignmentIds), since }),
      fc.record({ kind: fc.constant('cancel' as const), id: segment(assignmentIds) }),
      fc.record({ kind: fc.constant('approvals' as const), id: segment(['pending', 'approved', 'expired']) }),
      fc.record({ kind: fc.constant('approval' as const), id: segment(['apv_nope']) }),
      fc.record({ kind: fc.constantFrom('approve' as const, 'deny' as const), id: segment(['apv_nope']) }),
    );
    await fc.assert(
      fc.asyncProperty(tokens(), request, async (token, { kind, id, ...rest }) => {
        const since = 'since' in rest ? rest.since : undefined;
        const query = since === undefined ? '' : `?since=${encodeURIComponent(since)}`;
        const path = {
          assignment: `/v1/assignments/${encodeURIComponent(id)}`,
          agent: `/v1/agents/${encodeURIComponent(id)}`,
          events: `/v1/assignments/${encodeURIComponent(id)}/events${query}`,
          cancel: `/v1/assignments/${encodeURIComponent(id)}/cancel`,
          approvals: `/v1/approvals?status=${encodeURIComponent(id)}`,
          approval: `/v1/approvals/${encodeURIComponent(id)}`,
          approve: `/v1/approvals/${encodeURIComponent(id)}/approve`,
          deny: `/v1/approvals/${encodeURIComponent(id)}/deny`,
        }[kind];
        const post = kind === 'cancel' || kind === 'approve' || kind === 'deny';
        const reply = await send({ method: post ? 'POST' : 'GET', path, token });
        if (reply.status >= 300 || !keptAsIs(path)) return;
        if (kind === 'assignment' || kind === 'cancel')
          expect(assignmentSchema.parse(reply.body).id).toBe(id);
        if (kind === 'agent') agentSchema.parse(reply.body);
        if (kind === 'events') assignmentEventSchema.array().parse(reply.body);
        if (kind === 'approvals') approvalSchema.array().parse(reply.body);
      }),
      { numRuns },
    );
  });

  it('a request refused before its body is read leaves its connection fit for the next one', async () => {
    const refusal = fc.constantFrom('not JSON', 'no token', 'bad token');
    const path = fc.constantFrom('/v1/assignments', '/v1/agents', '/v1/gateways/connect');
    const size = fc.integer({ min: 0, max: maxBodyBytes - 100 });
    await fc.assert(
      fc.asyncProperty(refusal, path, size, async (why, target, bytes) => {
        const body = JSON.stringify({ agent: 'fuzz-target', prompt: 'x'.repeat(bytes) });
        const headers = [
          `Content-Type: ${why === 'not JSON' ? 'text/plain' : 'application/json'}`,
          `Content-Length: ${Buffer.byteLength(body)}`,
          ...(why === 'no token'
            ? []
            : [`Authorization: Bearer ${why === 'bad token' ? 'let-me-in' : ownerToken}`]),
        ];
        const connection = await RawConnection.open();
        try {
          connection.write(`POST ${target} HTTP/1.1\r\nHost: hub\r\n${headers.join('\r\n')}\r\n\r\n${body}`);
          const refused = await connection.response();
          expect(refused?.status, refused?.body).toBe(why === 'not JSON' ? 400 : 401);
          if (refused?.headers.connection?.toLowerCase() === 'close') return; // the hub said it is done
          connection.write('GET /v1/health HTTP/1.1\r\nHost: hub\r\n\r\n');
          const next = await connection.response();
          const told = `Connection: ${refused?.headers.connection ?? '(none)'}`;
          expect(next?.status ?? 'the hub closed the connection', `the next request after '${told}'`).toBe(
            200,
          );
        } finally {
          connection.close();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('leaves the hub healthy', async () => {
    const res = await fetch(`${hub.url}/v1/health`);
    expect(res.status).toBe(200);
  });
});

// ---- the WebSocket peer --------------------------------------------------------------------------

/** A raw gateway-socket client that keeps every frame the hub sent, in order. */
class Peer {
  readonly frames: HubFrame[] = [];
  /** Frames from the hub that do not match the protocol schema. */
  readonly bad: string[] = [];
  readonly openedAt = Date.now();
  /** The model of the hub's count of this connection's invalid frames. */
  invalid = 0;
  helloDone = false;
  closeInfo: { code: number; reason: string } | undefined;
  private readonly wakers = new Set<() => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = String(data);
      const parsed = hubFrameSchema.safeParse(JSON.parse(text));
      if (parsed.success) this.frames.push(parsed.data);
      else this.bad.push(text);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => undefined); // a close follows
  }

  static async open(): Promise<Peer> {
    const ws = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/v1/gateway/ws`);
    const peer = new Peer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await peer.until(() => peer.frames.length > 0, 'welcome');
    expect(peer.frames[0]?.t).toBe('welcome');
    return peer;
  }

  get open(): boolean {
    return this.closeInfo === undefined;
  }

  send(data: string | Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
  }

  /** Sends bytes as a text frame, whether they are UTF-8 or not. */
  sendText(bytes: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes, { binary: false });
  }

  /** Resolves once `done()` holds; fails on a close before that, or after `timeoutMs`. */
  until(done: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (done()) finish(resolve);
        else if (this.closeInfo)
          finish(() => reject(new Error(`socket closed (${this.closeInfo?.code}) awaiting ${what}`)));
      };
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.wakers.delete(check);
        then();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${what} within ${timeoutMs}ms`))),
        timeoutMs,
      );
      this.wakers.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.ws.close();
    await this.until(() => !this.open, 'close');
  }

  private wake(): void {
    for (const check of [...this.wakers]) check();
  }
}

/** Sends a valid hello for a registered gateway and awaits `hello_ok`. */
async function sayHello(peer: Peer, gw: { token: string; agentId: string }): Promise<void> {
  const mark = peer.frames.length;
  const hello: GatewayFrame = {
    t: 'hello',
    token: gw.token,
    version: 't',
    slots: 1,
    agents: [{ agentId: gw.agentId, provider: 'echo', slots: 1 }],
    held: [],
  };
  peer.send(JSON.stringify(hello));
  await peer.until(() => peer.frames.length > mark, 'hello_ok');
  expect(peer.frames.slice(mark).map((frame) => frame.t)).toEqual(['hello_ok']);
  peer.helloDone = true;
}

/** An agent with a gateway registered for it (not connected). */
async function registerGateway(name: string): Promise<{ agentId: string; agentName: string; token: string }> {
  const agentReply = await send({
    method: 'POST',
    path: '/v1/agents',
    token: ownerToken,
    body: JSON.stringify({ name }),
    contentType: 'application/json',
  });
  const agent = createdAgentSchema.parse(agentReply.body);
  const connect = await send({
    method: 'POST',
    path: '/v1/gateways/connect',
    token: agent.key,
    body: JSON.stringify({ name: `${name}-gw`, provider: 'echo' }),
    contentType: 'application/json',
  });
  const result = gatewayConnectResultSchema.parse(connect.body);
  return { agentId: agent.id, agentName: agent.name, token: result.gatewayToken ?? '' };
}

async function expectHealthy(): Promise<void> {
  const res = await fetch(`${hub.url}/v1/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ ok: true });
}

/** The current fuzzing socket of each kind: one still before hello, one after. */
const peers: { pre?: Peer; post?: Peer } = {};

// ---- WebSocket generators ------------------------------------------------------------------------

const frameTypes = ['hello', 'heartbeat', 'accept', 'reject', 'starting', 'running', 'events', 'result'];

type Frame = string | Uint8Array;

function frameArbitrary(known: { agentId: string; assignmentIds: string[] }): fc.Arbitrary<Frame> {
  const ref = {
    valid: {
      assignmentId: fc.oneof(
        fc.constantFrom(...known.assignmentIds, 'asg_nope'),
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
      ),
      attempt: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.maxSafeInteger()),
    },
    edges: { assignmentId: ['', 'x'.repeat(65)], attempt: [0, -1, 1.5, 2 ** 53, '1'] },
  };
  const slots = fc.integer({ min: 0, max: 1024 });
  const slotEdges = [-1, 1025, 1.5, '1'];
  const agents = fc.array(
    objects(
      {
        valid: {
          agentId: fc.oneof(
            fc.constantFrom(known.agentId, 'agt_nope'),
            fc.string({ minLength: 1, maxLength: 64 }),
          ),
          provider: fc.oneof(fc.constant('echo'), fc.string({ minLength: 1, maxLength: 64 })),
          slots,
        },
        required: ['agentId', 'provider', 'slots'],
        edges: { agentId: [''], provider: ['', 'x'.repeat(65)], slots: slotEdges },
      },
      nested,
    ),
    { maxLength: 3 },
  );
  const held = fc.array(
    objects(
      {
        valid: { ...ref.valid, state: fc.constantFrom('accepted', 'starting', 'running', 'finished') },
        required: ['assignmentId', 'attempt', 'state'],
        edges: { ...ref.edges, state: ['offered', 'done'] },
      },
      nested,
    ),
    { maxLength: 3 },
  );
  const runEvent = objects(
    {
      valid: {
        seq: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.maxSafeInteger()),
        type: fc.oneof(fc.constantFrom('output', 'log', 'error'), fc.string({ minLength: 1, maxLength: 64 })),
        ts: fc.oneof(
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          anyString,
        ),
        data: fc.dictionary(anyString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      },
      required: ['seq', 'type', 'ts', 'data'],
      edges: { seq: [0, -1, 1.5], type: ['', 'x'.repeat(65)], data: [null, [], 'x'] },
    },
    nested,
  );
  const shapes: Record<string, Shape> = {
    hello: {
      valid: {
        token: fc.oneof(
          fc.string({ minLength: 1, maxLength: 512 }),
          fc.constant(`gnt_g_tok_0000000000aaaaaaaaaaaaaaaa.${'A'.repeat(43)}`),
        ),
        version: fc.string({ maxLength: 64 }),
        hostname: fc.string({ maxLength: 255 }),
        slots,
        agents,
        held,
      },
      required: ['token', 'version', 'slots', 'agents', 'held'],
      edges: {
        token: ['', 'x'.repeat(513)],
        version: ['x'.repeat(65)],
        hostname: ['x'.repeat(256)],
        slots: slotEdges,
        agents: [[{}], 'x', [null]],
        held: [[{}], {}],
      },
    },
    heartbeat: {
      valid: { slots, agents, seenOffers: fc.nat() },
      required: ['slots', 'agents', 'seenOffers'],
      edges: { slots: slotEdges, agents: [[{}], null], seenOffers: [-1, 1.5] },
    },
    accept: { ...ref, required: ['assignmentId', 'attempt'] },
    reject: {
      valid: { ...ref.valid, reason: fc.string({ maxLength: 1000 }) },
      required: ['assignmentId', 'attempt', 'reason'],
      edges: { ...ref.edges, reason: ['x'.repeat(1001)] },
    },
    starting: { ...ref, required: ['assignmentId', 'attempt'] },
    running: { ...ref, required: ['assignmentId', 'attempt'] },
    events: {
      valid: { ...ref.valid, events: fc.array(runEvent, { minLength: 1, maxLength: 4 }) },
      required: ['assignmentId', 'attempt', 'events'],
      edges: { ...ref.edges, events: [[], [{}], {}] },
    },
    result: {
      valid: {
        ...ref.valid,
        status: fc.constantFrom('succeeded', 'failed', 'cancelled', 'timed_out'),
        output: anyString,
        exitCode: fc.oneof(fc.integer(), fc.constant(null)),
        error: fc.record({ code: fc.string({ maxLength: 64 }), message: anyString }),
        lastSeq: fc.nat(),
      },
      required: ['assignmentId', 'attempt', 'status', 'output', 'exitCode', 'lastSeq'],
      edges: {
        ...ref.edges,
        status: ['ok', 'SUCCEEDED', 'expired'],
        exitCode: [1.5, '0'],
        error: [{ code: 'x'.repeat(65), message: '' }, { code: 'a' }, 'boom'],
        lastSeq: [-1, 0.5],
      },
    },
  };
  const typed = frameTypes.map((type) => {
    const shape = shapes[type] as Shape;
    return objects({
      valid: { t: fc.constant(type), ...shape.valid },
      required: ['t', ...shape.required],
      edges: {
        ...shape.edges,
        t: [...frameTypes, 'launch', 'HELLO', 'constructor', '__proto__', 'toString', 'hasOwnProperty'],
      },
    }).map((frame) => JSON.stringify(frame));
  });
  return fc.oneof(
    { weight: 12, arbitrary: fc.oneof(...typed) },
    { weight: 2, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value) ?? '') },
    { weight: 2, arbitrary: brokenJson },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  );
}

/** What the hub must answer to a frame, from the protocol's own schema and the socket's state. */
type Expected =
  | { kind: 'invalid'; code: 'invalid_frame' | 'hello_required' | 'already_hello' }
  | { kind: 'unauthorized' }
  | { kind: 'valid'; frame: Exclude<GatewayFrame, { t: 'hello' }> };

function classify(data: Frame, helloDone: boolean): Expected {
  if (typeof data !== 'string') return { kind: 'invalid', code: 'invalid_frame' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data).toString()); // the text as the hub decodes it
  } catch {
    return { kind: 'invalid', code: 'invalid_frame' };
  }
  const parsed = gatewayFrameSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', code: 'invalid_frame' };
  const frame = parsed.data;
  if (frame.t === 'hello')
    return helloDone ? { kind: 'invalid', code: 'already_hello' } : { kind: 'unauthorized' };
  if (!helloDone) return { kind: 'invalid', code: 'hello_required' };
  return { kind: 'valid', frame };
}

/**
 * The replies a structurally valid frame gets after hello when it names nothing this gateway holds
 * (the fuzzing gateway's agent never has an assignment).
 */
function repliesTo(frame: Exclude<GatewayFrame, { t: 'hello' }>): Partial<HubFrame>[] {
  if (frame.t === 'heartbeat') return [];
  if (frame.t === 'attached') return []; // an answer to no attach this hub sent: ignored
  const ref = { assignmentId: frame.assignmentId, attempt: frame.attempt };
  switch (frame.t) {
    case 'reject':
    case 'running':
      return [];
    case 'accept':
    case 'starting':
      return [{ t: 'revoke', ...ref }];
    case 'events':
      return [
        { t: 'events_ack', ...ref, seq: Math.max(...frame.events.map((event) => event.seq)) },
        { t: 'revoke', ...ref },
      ];
    case 'result':
      return [{ t: 'result_ack', ...ref }];
  }
}

// ---- WebSocket properties ------------------------------------------------------------------------

describe('WebSocket: generated frames', () => {
  let fuzzGateway: { agentId: string; agentName: string; token: string };
  let garbageGateway: { agentId: string; agentName: string; token: string };
  let frames: fc.Arbitrary<Frame>;
  let probes = 0;
  const seen = { closed1008: 0, closed4003: 0, closedBeforeHello: 0, valid: 0 };

  beforeAll(async () => {
    fuzzGateway = await registerGateway('ws-fuzz');
    garbageGateway = await registerGateway('ws-garbage');
    const listed = await send({ method: 'GET', path: '/v1/assignments?limit=5', token: ownerToken });
    const ids = assignmentSchema
      .array()
      .parse(listed.body)
      .map((a) => a.id);
    frames = frameArbitrary({ agentId: fuzzGateway.agentId, assignmentIds: ids });
  });

  /**
   * Waits until the hub has handled every frame sent on a socket after hello, and returns the
   * frames it sent since `mark`: frames are handled in order, and a `starting` for no assignment
   * is answered with a revoke.
   */
  async function settle(peer: Peer, mark: number): Promise<HubFrame[]> {
    probes += 1;
    const probe = `asg_probe_${probes}`;
    peer.send(JSON.stringify({ t: 'starting', assignmentId: probe, attempt: 1 }));
    const isProbe = (frame: HubFrame) => frame.t === 'revoke' && frame.assignmentId === probe;
    await peer.until(() => peer.frames.slice(mark).some(isProbe), 'the probe revoke');
    const fresh = peer.frames.slice(mark);
    return fresh.slice(0, fresh.findIndex(isProbe));
  }

  /** The current socket of a kind, replaced when the hub closed it (or before its hello timeout). */
  async function peerFor(kind: 'pre' | 'post'): Promise<Peer> {
    const current = peers[kind];
    if (current?.open && (kind === 'post' || Date.now() - current.openedAt < 5_000)) return current;
    if (current) {
      await current.close();
      expect(current.bad).toEqual([]);
    }
    const peer = await Peer.open();
    if (kind === 'post') await sayHello(peer, fuzzGateway);
    peers[kind] = peer;
    return peer;
  }

  /** Sends one frame and checks the hub's answer against the model. */
  async function exchange(kind: 'pre' | 'post', data: Frame): Promise<void> {
    const peer = await peerFor(kind);
    const expected = classify(data, peer.helloDone);
    const mark = peer.frames.length;
    const fresh = () => peer.frames.slice(mark);
    peer.send(data);
    switch (expected.kind) {
      case 'invalid': {
        await peer.until(() => fresh().length > 0, `an error frame (${expected.code})`);
        expect(fresh()[0]).toMatchObject({ t: 'error', code: expected.code });
        if (!peer.helloDone) {
          // Before hello the first invalid frame ends the socket.
          await peer.until(() => !peer.open, 'the close after an invalid frame before hello');
          expect(peer.closeInfo?.code).toBe(1008);
          seen.closedBeforeHello += 1;
          return;
        }
        peer.invalid += 1;
        if (peer.invalid > 20) {
          await peer.until(() => !peer.open, 'the close after 21 invalid frames');
          expect(peer.closeInfo?.code).toBe(1008);
          seen.closed1008 += 1;
        }
        return;
      }
      case 'unauthorized': {
        await peer.until(() => !peer.open, 'the close after a hello with a bad token');
        expect(fresh()).toEqual([expect.objectContaining({ t: 'error', code: 'unauthorized' })]);
        expect(peer.closeInfo?.code).toBe(4003);
        seen.closed4003 += 1;
        return;
      }
      case 'valid': {
        const replies = await settle(peer, mark);
        const wanted = repliesTo(expected.frame);
        expect(replies.map((frame) => frame.t)).toEqual(wanted.map((frame) => frame.t));
        replies.forEach((reply, i) => expect(reply).toMatchObject(wanted[i] ?? {}));
        seen.valid += 1;
        return;
      }
    }
  }

  it('answers every frame as the protocol says, before and after hello', { timeout: 40_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('pre' as const, 'post' as const),
        fc.array(frames, { minLength: 1, maxLength: 6 }),
        async (kind, batch) => {
          try {
            for (const data of batch) await exchange(kind, data);
          } catch (err) {
            // A socket in an unknown state would confuse the next run (and shrinking): drop it.
            await peers[kind]?.close();
            throw err;
          }
          await expectHealthy();
        },
      ),
      { numRuns },
    );
    for (const peer of Object.values(peers)) expect(peer?.bad).toEqual([]);
    // The runs reached every kind of outcome.
    expect(seen.valid).toBeGreaterThan(0);
    expect(seen.closed1008).toBeGreaterThan(0);
    expect(seen.closedBeforeHello).toBeGreaterThan(0);
  });

  it(
    'closes a peer that keeps sending garbage with 1008: after 21 error frames, or the first before hello',
    { timeout: 40_000 },
    async () => {
      const garbage = frames.filter((data) => {
        const expected = classify(data, true);
        return expected.kind === 'invalid' && expected.code === 'invalid_frame';
      });
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.array(garbage, { minLength: 21, maxLength: 40 }),
          async (hello, batch) => {
            const peer = await Peer.open();
            try {
              if (hello) await sayHello(peer, garbageGateway);
              const mark = peer.frames.length;
              for (const data of batch) peer.send(data);
              await peer.until(() => !peer.open, 'the 1008 close');
              expect(peer.closeInfo?.code).toBe(1008);
              const replies = peer.frames.slice(mark);
              expect(replies).toHaveLength(hello ? 21 : 1);
              for (const reply of replies) expect(reply).toMatchObject({ t: 'error', code: 'invalid_frame' });
              expect(peer.bad).toEqual([]);
            } finally {
              await peer.close();
            }
            await expectHealthy();
          },
        ),
        { numRuns: 20 },
      );
    },
  );

  it(
    'ends a socket before hello after its first frame, whatever it is: an error frame and a close',
    { timeout: 60_000 },
    async () => {
      /** A frame of any kind and size a stranger might send. */
      type Raw = { text: string } | { binary: Uint8Array } | { badUtf8: Uint8Array };
      const invalidUtf8 = fc.uint8Array({ minLength: 1, maxLength: 64 }).filter((bytes) => !isUtf8(bytes));
      const raw: fc.Arbitrary<Raw> = fc.oneof(
        { weight: 6, arbitrary: frames.map((f) => (typeof f === 'string' ? { text: f } : { binary: f })) },
        { weight: 1, arbitrary: invalidUtf8.map((badUtf8) => ({ badUtf8 })) },
        {
          weight: 1,
          arbitrary: fc.string({ minLength: 1, maxLength: 512 }).map((token) => ({
            text: JSON.stringify({ t: 'hello', token, version: 'x', slots: 1, agents: [], held: [] }),
          })),
        },
        {
          weight: 2,
          arbitrary: fc
            .integer({ min: 60 * 1024, max: 128 * 1024 })
            .chain((size) =>
              fc.constantFrom<Raw>({ text: 'x'.repeat(size) }, { binary: new Uint8Array(size) }),
            ),
        },
      );
      const send = (peer: Peer, frame: Raw) => {
        if ('text' in frame) peer.send(frame.text);
        else if ('binary' in frame) peer.send(frame.binary);
        else peer.sendText(frame.badUtf8);
      };
      /** The close code and the error frame (if any) one frame alone must get. */
      const expected = (frame: Raw): { code: number; error?: string } => {
        const bytes =
          'text' in frame ? Buffer.byteLength(frame.text) : 'binary' in frame ? frame.binary.length : 0;
        if (bytes > 64 * 1024) return { code: 1009 };
        if ('badUtf8' in frame) return { code: 1007 };
        const kind = classify('text' in frame ? frame.text : frame.binary, false);
        if (kind.kind === 'unauthorized') return { code: 4003, error: 'unauthorized' };
        if (kind.kind === 'invalid') return { code: 1008, error: kind.code };
        throw new Error('no frame is valid before hello');
      };
      const codes = new Set<number>();
      await fc.assert(
        fc.asyncProperty(fc.array(raw, { minLength: 1, maxLength: 3 }), async (batch) => {
          const peer = await Peer.open();
          try {
            for (const frame of batch) send(peer, frame);
            await peer.until(() => !peer.open, 'the close');
            const errors = peer.frames.slice(1);
            // Never more than one answer, always an error frame.
            expect(errors.length).toBeLessThanOrEqual(1);
            for (const error of errors) expect(error.t).toBe('error');
            expect(peer.bad).toEqual([]);
            const code = peer.closeInfo?.code ?? 0;
            codes.add(code);
            if (batch.length === 1) {
              const want = expected(batch[0] as Raw);
              expect(code).toBe(want.code);
              expect(errors.map((e) => (e as { code?: string }).code)).toEqual(
                want.error ? [want.error] : [],
              );
            } else {
              expect([1007, 1008, 1009, 4003]).toContain(code);
            }
          } finally {
            await peer.close();
          }
          await expectHealthy();
        }),
        { numRuns: 120 },
      );
      // The runs reached every kind of end.
      expect([...codes].sort()).toEqual([1007, 1008, 1009, 4003]);
    },
  );

  it('offers a gateway work only for the agents attached to it, whatever its heartbeat says', async () => {
    // Another agent of the workspace, with queued work, that the heartbeating gateway does not serve.
    const foreign = await registerGateway('ws-foreign');
    for (const prompt of ['a', 'b']) {
      await createAssignment(foreign.agentName, prompt);
    }
    const queued = `/v1/assignments?agent=${foreign.agentName}&state=queued`;
    const own = await registerGateway('ws-own');
    const heartbeat = fc.record({
      t: fc.constant('heartbeat' as const),
      slots: fc.integer({ min: 0, max: 4 }),
      agents: fc.array(
        fc.record({
          agentId: fc.constantFrom(own.agentId, foreign.agentId),
          provider: fc.constant('echo'),
          slots: fc.integer({ min: 0, max: 4 }),
        }),
        { maxLength: 2 },
      ),
      seenOffers: fc.nat({ max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(heartbeat, async (frame) => {
        // A fresh connection per run, so that each run starts from the capacity its hello reports.
        const peer = await Peer.open();
        try {
          await sayHello(peer, own);
          const mark = peer.frames.length;
          peer.send(JSON.stringify(frame));
          await settle(peer, mark);
          await sleep(dispatchMs); // a heartbeat kicks a dispatch pass, which runs on its own
          const offered = peer.frames
            .slice(mark)
            .flatMap((reply) => (reply.t === 'offer' ? [reply.assignment] : []));
          // The gateway's own agent has no work: any offer is another agent's assignment.
          expect(offered.map(({ agentId, prompt }) => ({ agentId, prompt }))).toEqual([]);
        } finally {
          await peer.close();
          // A closed gateway's offers go back to the queue: wait for that, so the next run sees them.
          for (let i = 0; i < 100; i += 1) {
            const list = await send({ method: 'GET', path: queued, token: ownerToken });
            if ((list.body as unknown[]).length === 2) break;
            await sleep(10);
          }
        }
      }),
      { numRuns: 50 },
    );
  });
});

// ---- the hub afterwards --------------------------------------------------------------------------

describe('after the fuzzing', () => {
  it('still runs an assignment round trip through a well-behaved gateway', async () => {
    await expectHealthy();
    const gw = await registerGateway('after-fuzz');
    const peer = await Peer.open();
    try {
      await sayHello(peer, gw);
      const next = async <T extends HubFrame['t']>(t: T, send?: object) => {
        const mark = peer.frames.length;
        if (send) peer.send(JSON.stringify(send));
        await peer.until(() => peer.frames.slice(mark).some((frame) => frame.t === t), `a '${t}' frame`);
        return peer.frames.slice(mark).find((frame) => frame.t === t) as Extract<HubFrame, { t: T }>;
      };
      const offered = next('offer');
      const id = await createAssignment(gw.agentName, 'still alive?');
      const offer = await offered;
      expect(offer.assignment).toMatchObject({ id, attempt: 1, prompt: 'still alive?' });

      const ref = { assignmentId: id, attempt: 1 };
      expect(await next('claimed', { t: 'accept', ...ref })).toEqual({ t: 'claimed', ...ref });
      expect(await next('start', { t: 'starting', ...ref })).toEqual({
        t: 'start',
        ...ref,
        runToken: expect.stringMatching(/^gnt_r_/),
      });
      peer.send(JSON.stringify({ t: 'running', ...ref }));
      const result = { status: 'succeeded', output: 'yes', exitCode: 0, lastSeq: 0 };
      expect(await next('result_ack', { t: 'result', ...ref, ...result })).toEqual({
        t: 'result_ack',
        ...ref,
      });

      const shown = await send({ method: 'GET', path: `/v1/assignments/${id}`, token: ownerToken });
      expect(assignmentSchema.parse(shown.body)).toMatchObject({
        id,
        state: 'succeeded',
        result: { output: 'yes', exitCode: 0 },
        error: null,
      });
      expect(peer.frames.filter((frame) => frame.t === 'error')).toEqual([]);
      expect(peer.bad).toEqual([]);
    } finally {
      await peer.close();
    }
    await expectHealthy();
  });
});
