/**
 * Deeply nested JSON (issue 10, item 9) against a real hub: a body, an MCP message or a gateway
 * frame nested past 64 levels is a client error (400 `invalid_request`, a JSON-RPC parse error, an
 * `invalid_frame` error frame), never a stack overflow answered with a 500; 64 levels still work.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createdAgentSchema, gatewayConnectResultSchema } from '../../protocol/src/index.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

/** The limit, spelled out here: the test must not move with the constant it checks. */
const maxJsonDepth = 64;

let temp: TempHub;

beforeAll(async () => {
  temp = await startTempHub('gantry-deep-json-');
});
afterAll(() => temp?.stop());
afterEach(() => closeGateways());

/** JSON text of `levels` nested objects, `{"a":{"a":...1}}`. */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

async function post(
  path: string,
  body: string,
  token = temp.ownerToken,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${temp.hub.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('REST bodies', () => {
  it.each([
    ['message metadata', '/v1/messages', (deep: string) => `{"body":"hi","metadata":{"x":${deep}}}`],
    [
      'an agent template setting',
      '/v1/agents/add',
      (deep: string) => `{"name":"deep-one","template":"echo","settings":{"x":${deep}}}`,
    ],
    ['a task title', '/v1/tasks', (deep: string) => `{"title":${deep}}`],
  ])('refuses %s nested past 64 levels with 400, however deep', async (_what, path, body) => {
    for (const levels of [maxJsonDepth, 5_000, 100_000]) {
      const reply = await post(path, body(nested(levels)));
      expect(reply.status, reply.text).toBe(400);
      expect(JSON.parse(reply.text)).toEqual({
        error: { code: 'invalid_request', message: 'the body nests deeper than 64 levels' },
      });
    }
  });

  it('keeps metadata nested 64 levels deep, body included', async () => {
    const reply = await post('/v1/messages', `{"body":"hi","metadata":${nested(maxJsonDepth - 1)}}`);
    expect(reply.status, reply.text).toBe(201);
    expect(JSON.stringify((JSON.parse(reply.text) as { metadata: unknown }).metadata)).toBe(
      nested(maxJsonDepth - 1),
    );
  });

  it('refuses listener event data nested too deep', async () => {
    const agent = createdAgentSchema.parse(
      JSON.parse((await post('/v1/agents', JSON.stringify({ name: 'deep-listener' }))).text),
    );
    const reply = await post(
      '/v1/events',
      `{"type":"listener.queue_full","data":${nested(5_000)}}`,
      agent.key,
    );
    expect(reply.status, reply.text).toBe(400);
  });
});

describe('MCP messages', () => {
  const call = (args: string) =>
    post(
      '/mcp',
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_message","arguments":${args}}}`,
      temp.ownerToken,
      { accept: 'application/json, text/event-stream' },
    );

  it('answers a tool call whose arguments nest past 64 levels with a 400 parse error', async () => {
    for (const levels of [maxJsonDepth, 100_000]) {
      const reply = await call(`{"text":"hi","to":${nested(levels)}}`);
      expect(reply.status, reply.text).toBe(400);
      expect(JSON.parse(reply.text)).toMatchObject({
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error: the JSON-RPC message nests deeper than 64 levels' },
      });
    }
    // Shallow arguments still reach the tool.
    const ok = await call('{"text":"not deep"}');
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('not deep');
  });
});

describe('gateway frames', () => {
  it('answers a frame nested past 64 levels with invalid_frame and keeps a served socket', async () => {
    const agent = createdAgentSchema.parse(
      JSON.parse((await post('/v1/agents', JSON.stringify({ name: 'deep-gw' }))).text),
    );
    const connect = gatewayConnectResultSchema.parse(
      JSON.parse(
        (await post('/v1/gateways/connect', JSON.stringify({ name: 'deep-gw', provider: 'echo' }), agent.key))
          .text,
      ),
    );
    const gw = await FakeGateway.open(temp.hub.url);
    await gw.next('welcome');
    await gw.ask(
      {
        t: 'hello',
        token: connect.gatewayToken ?? '',
        version: 'test',
        slots: 1,
        agents: [{ agentId: agent.id, provider: 'echo', slots: 1 }],
        held: [],
      },
      'hello_ok',
    );
    const event = `{"seq":1,"type":"output","ts":"2026-01-01T00:00:00.000Z","data":${nested(100_000)}}`;
    gw.send(`{"t":"events","assignmentId":"asg_deep","attempt":1,"events":[${event}]}`);
    expect(await gw.next('error')).toMatchObject({
      code: 'invalid_frame',
      message: 'frame nests deeper than 64 levels',
    });
    gw.send({ t: 'starting', assignmentId: 'asg_probe', attempt: 1 });
    expect(await gw.next('revoke')).toMatchObject({ assignmentId: 'asg_probe' });
  });
});
