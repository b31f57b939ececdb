/**
 * The authorization matrix (DESIGN §5, issue 6): every REST route, the MCP endpoint and the gateway
 * WebSocket, against every kind of principal, on a real hub over HTTP on 127.0.0.1. One test per
 * cell, named route × principal. Users act by role; an agent key acts only as its agent; a gateway
 * token does only gateway things; a revoked, expired or missing token is a 401 everywhere.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeGateways, FakeGateway } from './fake-gateway.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

const principals = [
  'owner',
  'admin',
  'member',
  'self', // the agent key of the agent the route concerns (alpha)
  'other', // the agent key of another agent (beta)
  'gateway', // the token of a gateway serving alpha
  'revoked', // an owner's token, revoked
  'expired', // an owner's token, expired
  'none',
] as const;
type Principal = (typeof principals)[number];

/** `ok`: any 2xx; a number: that exact status. */
type Outcome = 'ok' | 400 | 401 | 403 | 404;

interface Req {
  method: string;
  path: string;
  json?: unknown;
  /** Overrides the principal's token (a fresh credential made for this cell). */
  token?: string;
}

interface Row {
  route: string;
  /**
   * Outcomes for owner, admin, member, self, other, gateway: A (2xx), F (403), N (404), U (401),
   * B (400: allowed, but refused as a request that makes no sense).
   */
  rule: string;
  /** A public route: the same answer without a valid token. */
  open?: boolean;
  req: (p: Principal) => Req | Promise<Req>;
}

let temp: TempHub;
const tokens = {} as Record<Principal | 'mia', string>;
const ids = {
  alpha: '',
  beta: '',
  gateway: '',
  messageToAlpha: '',
  taskOfAlpha: '',
  assignmentOfAlpha: '',
  handoff: '',
  owner: '',
};
let counter = 0;
const unique = (prefix: string) => `${prefix}-${(counter += 1)}`;

async function call(
  req: Req,
  token: string | undefined,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (req.json !== undefined) headers['content-type'] = 'application/json';
  if (req.path === '/mcp') headers.accept = 'application/json, text/event-stream';
  const res = await fetch(`${temp.hub.url}${req.path}`, {
    method: req.method,
    headers,
    body: req.json === undefined ? undefined : JSON.stringify(req.json),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

/** As the owner; fails the setup unless it succeeded. */
async function owner(method: string, path: string, json?: unknown): Promise<Record<string, unknown>> {
  const reply = await call({ method, path, json }, temp.ownerToken);
  if (reply.status >= 300)
    throw new Error(`${method} ${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

async function freshAgent(): Promise<{ name: string; key: string; id: string }> {
  const name = unique('victim');
  const created = await owner('POST', '/v1/agents', { name });
  return { name, key: created.key as string, id: created.id as string };
}

async function freshAssignment(): Promise<string> {
  const created = await owner('POST', '/v1/assignments', { agent: 'alpha', prompt: 'matrix' });
  return created.id as string;
}

/** A pending pass-through folder approval, registered by the gateway. */
async function freshApproval(): Promise<string> {
  const name = unique('folder');
  const reply = await call(
    {
      method: 'POST',
      path: '/v1/gateways/folders',
      json: { name, workdir: `/tmp/${name}`, host: 'matrix-host', osUser: 'matrix' },
    },
    tokens.gateway,
  );
  if (reply.status !== 200) throw new Error(`folder registration: ${JSON.stringify(reply.body)}`);
  return reply.body.approvalId as string;
}

const get = (path: string): Req => ({ method: 'GET', path });
const post = (path: string, json: unknown = {}): Req => ({ method: 'POST', path, json });

/**
 * The rules. Columns: owner admin member self other gateway.
 * An agent key reads the directory of agents and shared workspace data (tasks, context), writes as
 * itself, and sees only its own mail and assignments; everything about people, credentials,
 * approvals, audit and the fleet is for users by role.
 */
const rows: Row[] = [
  { route: 'GET /v1/health', rule: 'A A A A A A', open: true, req: () => get('/v1/health') },
  { route: 'GET /v1/me', rule: 'A A A A A A', req: () => get('/v1/me') },
  { route: 'POST /v1/auth/exchange', rule: 'A A A A A A', req: () => post('/v1/auth/exchange') },
  // the dashboard: a sign-in link is for people; a bearer token is never a browser session
  { route: 'POST /v1/web/links', rule: 'A A A F F F', req: () => post('/v1/web/links') },
  { route: 'GET /v1/web/session', rule: 'U U U U U U', req: () => get('/v1/web/session') },

  // agents
  { route: 'GET /v1/agents', rule: 'A A A A A F', req: () => get('/v1/agents') },
  { route: 'GET /v1/agents/:ref', rule: 'A A A A A F', req: () => get('/v1/agents/alpha') },
  { route: 'POST /v1/agents', rule: 'A A F F F F', req: () => post('/v1/agents', { name: unique('new') }) },
  {
    route: 'POST /v1/agents/add (service-account)',
    rule: 'A A F F F F',
    req: () => post('/v1/agents/add', { name: unique('svc'), template: 'service-account' }),
  },
  {
    route: 'DELETE /v1/agents/:ref',
    rule: 'A A F F F F',
    req: async (p) => {
      const victim = await freshAgent();
      // `self` is the victim's own key: an agent does not remove itself either.
      return {
        method: 'DELETE',
        path: `/v1/agents/${victim.name}`,
        ...(p === 'self' ? { token: victim.key } : {}),
      };
    },
  },
  { route: 'POST /v1/agents/:ref/keys', rule: 'A A F F F F', req: () => post('/v1/agents/alpha/keys') },
  {
    route: 'POST /v1/agents/:ref/rotate-key',
    rule: 'A A F F F F',
    req: async (p) => {
      const victim = await freshAgent();
      return {
        ...post(`/v1/agents/${victim.name}/rotate-key`),
        ...(p === 'self' ? { token: victim.key } : {}),
      };
    },
  },
  { route: 'POST /v1/agents/:ref/pause', rule: 'A A F F F F', req: () => post('/v1/agents/beta/pause') },
  { route: 'POST /v1/agents/:ref/resume', rule: 'A A F F F F', req: () => post('/v1/agents/beta/resume') },
  { route: 'GET /v1/agents/reachability', rule: 'A A A A A F', req: () => get('/v1/agents/reachability') },
  {
    route: 'POST /v1/agents/:ref/ping',
    rule: 'A A A A A F',
    req: () => post('/v1/agents/alpha/ping', { timeoutMs: 200 }),
  },
  { route: 'GET /v1/templates', rule: 'A A A A A F', req: () => get('/v1/templates') },

  // gateways, devices, audit
  {
    route: 'POST /v1/gateways/connect',
    rule: 'F F F A A F',
    req: () => post('/v1/gateways/connect', { name: unique('gw'), provider: 'echo' }),
  },
  { route: 'GET /v1/gateways', rule: 'A A A F F F', req: () => get('/v1/gateways') },
  { route: 'GET /v1/gateways/:id', rule: 'A A A F F F', req: () => get(`/v1/gateways/${ids.gateway}`) },
  {
    route: 'POST /v1/gateways/folders',
    rule: 'F F F F F A',
    req: () => {
      const name = unique('pt');
      return post('/v1/gateways/folders', { name, workdir: `/tmp/${name}`, host: 'h', osUser: 'u' });
    },
  },
  {
    route: 'POST /v1/gateways/folders/:id/connect',
    rule: 'F F F F F A',
    req: async () => post(`/v1/gateways/folders/${await freshApproval()}/connect`, { needKey: false }),
  },
  { route: 'GET /v1/audit', rule: 'A A F F F F', req: () => get('/v1/audit') },

  // approvals: a member lists the tool requests of runs they started; a folder approval is not theirs
  { route: 'GET /v1/approvals', rule: 'A A A F F F', req: () => get('/v1/approvals') },
  {
    route: 'GET /v1/approvals/:id',
    rule: 'A A N F F F',
    req: async () => get(`/v1/approvals/${await freshApproval()}`),
  },
  {
    route: 'POST /v1/approvals/:id/approve',
    rule: 'A A N F F F',
    req: async () => post(`/v1/approvals/${await freshApproval()}/approve`),
  },
  {
    route: 'POST /v1/approvals/:id/deny',
    rule: 'A A N F F F',
    req: async () => post(`/v1/approvals/${await freshApproval()}/deny`),
  },

  // users, workspaces, tokens
  { route: 'GET /v1/users', rule: 'A A A F F F', req: () => get('/v1/users') },
  {
    route: 'POST /v1/users',
    rule: 'A A F F F F',
    req: () => post('/v1/users', { handle: unique('person'), role: 'member' }),
  },
  {
    route: 'DELETE /v1/users/:ref',
    rule: 'A A F F F F',
    req: async () => {
      const handle = unique('leaver');
      await owner('POST', '/v1/users', { handle, role: 'member' });
      return { method: 'DELETE', path: `/v1/users/${handle}` };
    },
  },
  // An agent sees the one workspace it belongs to (as `/v1/me` does), with no role.
  { route: 'GET /v1/workspaces', rule: 'A A A A A F', req: () => get('/v1/workspaces') },
  {
    route: 'POST /v1/workspaces',
    rule: 'A A A F F F',
    req: () => post('/v1/workspaces', { name: unique('ws') }),
  },
  { route: 'GET /v1/tokens', rule: 'A A A F F F', req: () => get('/v1/tokens') },
  { route: 'POST /v1/tokens', rule: 'A A A F F F', req: () => post('/v1/tokens', { expiresInMs: 60_000 }) },
  {
    // Another member's token: a member may not even learn it exists.
    route: 'POST /v1/tokens/:id/revoke',
    rule: 'A A N F F F',
    req: async () => {
      const reply = await call(post('/v1/tokens', {}), tokens.mia);
      return post(`/v1/tokens/${(reply.body.token as { id: string }).id}/revoke`);
    },
  },

  // assignments
  {
    route: 'POST /v1/assignments',
    rule: 'A A A A A F',
    req: () => post('/v1/assignments', { agent: 'alpha', prompt: 'matrix' }),
  },
  {
    // A thread's conversation with an agent is for who can read the thread.
    route: "POST /v1/assignments (a thread's session)",
    rule: 'A N N A N F',
    req: () =>
      post('/v1/assignments', { agent: 'alpha', prompt: 'm', sessionKey: `thread:${ids.messageToAlpha}` }),
  },
  {
    route: "POST /v1/assignments (someone's dm: session)",
    rule: 'A N N N N F',
    req: () => post('/v1/assignments', { agent: 'alpha', prompt: 'm', sessionKey: `dm:${ids.owner}` }),
  },
  { route: 'GET /v1/assignments', rule: 'A A A F F F', req: () => get('/v1/assignments') },
  {
    route: 'GET /v1/assignments/:id',
    rule: 'A A A A N F',
    req: () => get(`/v1/assignments/${ids.assignmentOfAlpha}`),
  },
  {
    route: 'GET /v1/assignments/:id/events',
    rule: 'A A A A N F',
    req: () => get(`/v1/assignments/${ids.assignmentOfAlpha}/events`),
  },
  {
    // The assignee may give up its own work; another agent never learns of it.
    route: 'POST /v1/assignments/:id/cancel',
    rule: 'A A A A N F',
    req: async () => post(`/v1/assignments/${await freshAssignment()}/cancel`),
  },

  // messages and inbox
  {
    route: 'POST /v1/messages',
    rule: 'A A A A A F',
    req: () => post('/v1/messages', { body: 'hello', to: ['alpha'] }),
  },
  { route: 'GET /v1/messages', rule: 'A A A A A F', req: () => get('/v1/messages') },
  {
    // A message from the owner to alpha: the parties see it; beta must not learn it exists.
    route: 'GET /v1/messages/:id',
    rule: 'A N N A N F',
    req: () => get(`/v1/messages/${ids.messageToAlpha}`),
  },
  {
    route: 'POST /v1/messages/:id/read',
    rule: 'A N N A N F',
    req: () => post(`/v1/messages/${ids.messageToAlpha}/read`),
  },
  {
    route: 'GET /v1/messages/:id/reply',
    rule: 'A N N A N F',
    req: () => get(`/v1/messages/${ids.messageToAlpha}/reply`),
  },
  {
    // A reply joins the thread, so only one who can read the parent may reply (issue 10, item 5).
    route: 'POST /v1/messages (a reply)',
    rule: 'A N N A N F',
    req: () => post('/v1/messages', { body: 'a reply', parentId: ids.messageToAlpha }),
  },
  {
    route: 'GET /v1/messages?thread=ID',
    rule: 'A N N A N F',
    req: () => get(`/v1/messages?thread=${ids.messageToAlpha}`),
  },
  { route: 'POST /v1/messages/read-all', rule: 'A A A A A F', req: () => post('/v1/messages/read-all') },
  { route: 'GET /v1/inbox', rule: 'A A A A A F', req: () => get('/v1/inbox') },

  // the activity log (an agent's view leaves out others' messages: see below)
  { route: 'GET /v1/events', rule: 'A A A A A F', req: () => get('/v1/events?since=0') },
  {
    route: 'POST /v1/events',
    rule: 'F F F A A F',
    req: () => post('/v1/events', { type: 'listener.queue_full', data: {} }),
  },

  // tasks
  { route: 'GET /v1/tasks', rule: 'A A A A A F', req: () => get('/v1/tasks') },
  { route: 'POST /v1/tasks', rule: 'A A A A A F', req: () => post('/v1/tasks', { title: 'matrix task' }) },
  { route: 'GET /v1/tasks/:id', rule: 'A A A A A F', req: () => get(`/v1/tasks/${ids.taskOfAlpha}`) },
  {
    route: 'PATCH /v1/tasks/:id',
    rule: 'A A A A A F',
    req: () => ({ method: 'PATCH', path: `/v1/tasks/${ids.taskOfAlpha}`, json: { priority: 'high' } }),
  },

  // context
  { route: 'GET /v1/context', rule: 'A A A A A F', req: () => get('/v1/context') },
  { route: 'GET /v1/context/:key', rule: 'A A A A A F', req: () => get('/v1/context/matrix-key') },
  {
    route: 'PUT /v1/context/:key',
    rule: 'A A A A A F',
    req: () => ({ method: 'PUT', path: `/v1/context/${unique('k')}`, json: { value: 'v' } }),
  },
  {
    route: 'DELETE /v1/context/:key',
    rule: 'A A A A A F',
    req: async () => {
      const key = unique('gone');
      await owner('PUT', `/v1/context/${key}`, { value: 'v' });
      return { method: 'DELETE', path: `/v1/context/${key}` };
    },
  },

  // handoffs: only the asker follows one; who cannot read its thread does not learn it exists
  {
    route: 'POST /v1/handoffs',
    rule: 'A A A B A F', // an agent does not hand work to itself
    req: () => post('/v1/handoffs', { agent: 'alpha', prompt: 'matrix', waitMs: 0 }),
  },
  { route: 'GET /v1/handoffs/:id', rule: 'A N N F N F', req: () => get(`/v1/handoffs/${ids.handoff}`) },
  {
    route: 'POST /v1/handoffs/:id/messages',
    rule: 'A N N F N F',
    req: () => post(`/v1/handoffs/${ids.handoff}/messages`, { body: 'more', waitMs: 0 }),
  },

  // MCP: users and agent keys, never a gateway token
  {
    route: 'POST /mcp tools/list',
    rule: 'A A A A A F',
    req: () => post('/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  },
  {
    route: 'POST /mcp tools/call list_tasks',
    rule: 'A A A A A F',
    req: () =>
      post('/mcp', {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'list_tasks', arguments: {} },
      }),
  },

  // stopping many things (issue 12): owners and admins. Last, since they stop the workspace's work.
  {
    route: 'POST /v1/assignments/cancel',
    rule: 'A A F F F F',
    req: () => post('/v1/assignments/cancel', { agent: 'alpha', all: true }),
  },
  { route: 'POST /v1/stop', rule: 'A A F F F F', req: () => post('/v1/stop', { all: true }) },
  { route: 'POST /v1/resume', rule: 'A A F F F F', req: () => post('/v1/resume', { all: true }) },
];

const decode: Record<string, Outcome> = { A: 'ok', B: 400, F: 403, N: 404, U: 401 };

function expected(row: Row, p: Principal): Outcome {
  const columns = row.rule.split(/\s+/);
  const index = principals.indexOf(p);
  if (index < columns.length) return decode[columns[index] as string] as Outcome;
  return row.open ? 'ok' : 401;
}

const cells = rows.flatMap((row) =>
  principals.map((p) => ({ name: `${row.route} × ${p}`, row, p, outcome: expected(row, p) })),
);

beforeAll(async () => {
  temp = await startTempHub('gantry-authz-');
  tokens.owner = temp.ownerToken;
  ids.owner = ((await owner('GET', '/v1/me')).principal as { id: string }).id;
  for (const [handle, role] of [
    ['ada', 'admin'],
    ['max', 'member'],
    ['mia', 'member'],
  ] as const) {
    const created = await owner('POST', '/v1/users', { handle, role });
    tokens[handle === 'ada' ? 'admin' : handle === 'max' ? 'member' : 'mia'] = created.token as string;
  }
  const alpha = await owner('POST', '/v1/agents', { name: 'alpha' });
  const beta = await owner('POST', '/v1/agents', { name: 'beta' });
  tokens.self = alpha.key as string;
  tokens.other = beta.key as string;
  ids.alpha = alpha.id as string;
  ids.beta = beta.id as string;
  const connected = await call(
    post('/v1/gateways/connect', { name: 'matrix-gw', provider: 'echo' }),
    tokens.self,
  );
  expect(connected.status).toBe(200);
  tokens.gateway = connected.body.gatewayToken as string;
  ids.gateway = (connected.body.gateway as { id: string }).id;

  const revoked = await owner('POST', '/v1/tokens', {});
  tokens.revoked = revoked.secret as string;
  await owner('POST', `/v1/tokens/${(revoked.token as { id: string }).id}/revoke`, {});
  const expiring = await owner('POST', '/v1/tokens', { expiresInMs: 1 });
  tokens.expired = expiring.secret as string;
  tokens.none = '';

  ids.messageToAlpha = (await owner('POST', '/v1/messages', { body: 'for alpha', to: ['alpha'] }))
    .id as string;
  ids.taskOfAlpha = (await owner('POST', '/v1/tasks', { title: 'alpha task', assignee: 'alpha' }))
    .id as string;
  ids.assignmentOfAlpha = await freshAssignment();
  await owner('PUT', '/v1/context/matrix-key', { value: 'shared' });
  ids.handoff = (await owner('POST', '/v1/handoffs', { agent: 'alpha', prompt: 'matrix', waitMs: 0 }))
    .id as string;
  await sleep(20); // past the expiring token's lifetime
}, 60_000);

afterAll(async () => {
  await closeGateways();
  await temp?.stop();
});

describe('authorization matrix', () => {
  it.each(cells)('$name', async ({ row, p, outcome }) => {
    const req = await row.req(p);
    const token = req.token ?? tokens[p];
    const reply = await call(req, token || undefined);
    const detail = `${row.route} as ${p}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`;
    if (outcome === 'ok') expect(reply.status >= 200 && reply.status < 300, detail).toBe(true);
    else expect(reply.status, detail).toBe(outcome);
  });
});

describe('what an agent key reads', () => {
  const bodies = async (token: string, path: string): Promise<string> =>
    JSON.stringify((await call(get(path), token)).body);

  it("never shows another agent's mail, through the mailbox or the activity log", async () => {
    const secret = `for alpha only ${unique('s')}`;
    await owner('POST', '/v1/messages', { body: secret, to: ['alpha'] });
    for (const path of ['/v1/events?since=0', '/v1/messages', '/v1/inbox']) {
      expect(await bodies(tokens.self, path), `alpha ${path}`).toContain(secret);
      expect(await bodies(tokens.other, path), `beta ${path}`).not.toContain(secret);
    }
    expect(await bodies(tokens.owner, '/v1/events?since=0')).toContain(secret);
  });
});

/** One MCP tool call; the answer's text (a tool error starts with its code) and whether it is an error. */
async function tool(token: string, name: string, args: Record<string, unknown>) {
  const reply = await call(
    post('/mcp', { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name, arguments: args } }),
    token,
  );
  const data = /^data: (.*)$/m.exec(String(reply.body.text ?? ''))?.[1];
  if (reply.status !== 200 || !data)
    throw new Error(`${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
  const result = (JSON.parse(data) as { result: { isError?: boolean; content: { text: string }[] } }).result;
  return { isError: result.isError === true, text: result.content[0]?.text ?? '' };
}

describe('a thread the caller cannot read stays closed (issue 10, item 5)', () => {
  it.each(['admin', 'member', 'other'] as const)(
    'as %s: every path that takes its ids answers not found, and it stays unreadable',
    async (p) => {
      const secret = `between owner and alpha ${unique('t')}`;
      const root = (await owner('POST', '/v1/messages', { body: secret, to: ['alpha'] })).id as string;
      const reply = (await call(post('/v1/messages', { body: 'ok', parentId: root }), tokens.self)).body
        .id as string;
      const handoff = (await owner('POST', '/v1/handoffs', { agent: 'alpha', prompt: secret, waitMs: 0 }))
        .id as string;
      const token = tokens[p];
      for (const parentId of [root, reply]) {
        const rest = await call(post('/v1/messages', { body: 'let me in', parentId }), token);
        expect(rest.status, JSON.stringify(rest.body)).toBe(404);
        expect((rest.body.error as { code: string }).code).toBe('not_found');
        const mcp = await tool(token, 'send_message', { text: 'let me in', parentId });
        expect(mcp).toEqual({ isError: true, text: `not_found: no message ${parentId}` });
      }
      const session = await tool(token, 'assign', {
        agent: 'alpha',
        prompt: 'x',
        sessionKey: `thread:${root}`,
      });
      expect(session.isError, session.text).toBe(true);
      expect(session.text).toMatch(/^not_found: /);
      for (const args of [{ handoffId: handoff }, { handoffId: handoff, text: 'let me in' }]) {
        const followed = await tool(token, 'handoff', args);
        expect(followed).toEqual({ isError: true, text: `not_found: no handoff ${handoff}` });
      }
      // Still closed: nothing joined the thread, and neither it nor its messages can be read.
      const thread = await call(get(`/v1/messages?thread=${root}`), token);
      expect(thread.status).toBe(404);
      for (const id of [root, reply]) expect((await call(get(`/v1/messages/${id}`), token)).status).toBe(404);
      const all = (await call(get(`/v1/messages?thread=${root}`), tokens.owner)).body as unknown as {
        body: string;
      }[];
      expect(all.map((m) => m.body)).toEqual([secret, 'ok']);
      expect(JSON.stringify((await call(get('/v1/messages'), token)).body)).not.toContain(secret);
    },
  );

  it('a party of the thread still replies, over REST and MCP', async () => {
    const root = (await owner('POST', '/v1/messages', { body: 'to alpha', to: ['alpha'] })).id as string;
    const rest = await call(post('/v1/messages', { body: 'rest reply', parentId: root }), tokens.self);
    expect(rest.status).toBe(201);
    const mcp = await tool(tokens.self, 'send_message', { text: 'mcp reply', parentId: rest.body.id });
    expect(mcp.isError, mcp.text).toBe(false);
    const thread = (await call(get(`/v1/messages?thread=${root}`), tokens.owner)).body as unknown as {
      body: string;
    }[];
    expect(thread.map((m) => m.body)).toEqual(['to alpha', 'rest reply', 'mcp reply']);
  });
});

describe('gateway WebSocket hello', () => {
  const hello = (token: string) => ({
    t: 'hello' as const,
    token,
    version: 'test',
    slots: 1,
    agents: [{ agentId: ids.alpha, provider: 'echo', slots: 1 }],
    held: [],
  });

  it.each(['owner', 'member', 'self', 'other', 'revoked', 'expired'] as const)(
    'refuses a hello with the %s credential',
    async (p) => {
      const gw = await FakeGateway.open(temp.hub.url);
      await gw.next('welcome');
      const error = await gw.ask(hello(tokens[p]), 'error');
      expect(error.code).toBe('unauthorized');
      expect((await gw.closed).code).toBe(4003);
    },
  );

  it('accepts the gateway token, and refuses it once revoked', async () => {
    const gw = await FakeGateway.open(temp.hub.url);
    await gw.next('welcome');
    await gw.ask(hello(tokens.gateway), 'hello_ok');
    await gw.close();
    // Revoke it (by id, as an owner would with `gantry tokens revoke`).
    const list = (await call(get('/v1/tokens'), tokens.owner)).body as unknown as {
      id: string;
      kind: string;
    }[];
    const gatewayToken = list.find((t) => t.kind === 'gateway' && tokens.gateway.includes(t.id));
    expect(gatewayToken, JSON.stringify(list)).toBeDefined();
    const revoked = await call(post(`/v1/tokens/${gatewayToken?.id}/revoke`), tokens.owner);
    expect(revoked.status).toBe(200);
    const again = await FakeGateway.open(temp.hub.url);
    await again.next('welcome');
    const error = await again.ask(hello(tokens.gateway), 'error');
    expect(error.code).toBe('unauthorized');
    expect((await again.closed).code).toBe(4003);
  });
});
