/**
 * Property-based fuzzing of `/mcp` `tools/call` against a real hub (random port, temporary SQLite),
 * with fast-check: every tool, and names that are no tool, called with generated arguments (each
 * tool's own keys with valid, wrong-typed and out-of-range values, unknown keys, any JSON, and
 * arguments that are no object), as well as broken and deeply nested JSON-RPC bodies. A call never
 * gets a 5xx, never a tool error the hub hides as `internal`, always a JSON-RPC answer; the hub
 * stays healthy and its tools keep working.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createdAgentSchema } from '../../protocol/src/index.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

let temp: TempHub;
/** Each tool's argument names, from the hub's own `tools/list`. */
let tools: Record<string, string[]>;

beforeAll(async () => {
  temp = await startTempHub('gantry-mcp-fuzz-');
  // A managed agent no gateway serves (work for it queues) and a pass-through one.
  for (const body of [{ name: 'fuzz-managed' }, { name: 'fuzz-passive', kind: 'pass_through' }]) {
    const res = await fetch(`${temp.hub.url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${temp.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    createdAgentSchema.parse(await res.json());
  }
  const listed = await rpc(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
  const result = listed.messages[0]?.result as {
    tools: { name: string; inputSchema: { properties?: Record<string, unknown> } }[];
  };
  tools = Object.fromEntries(result.tools.map((t) => [t.name, Object.keys(t.inputSchema.properties ?? {})]));
});
afterAll(() => temp?.stop());

interface RpcMessage {
  jsonrpc?: string;
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

/** One POST to /mcp; the JSON-RPC messages it answered with (plain JSON or SSE). */
async function rpc(body: string): Promise<{ status: number; text: string; messages: RpcMessage[] }> {
  const res = await fetch(`${temp.hub.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${temp.ownerToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      connection: 'close',
    },
    body,
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const messages = type.startsWith('text/event-stream')
    ? text
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => JSON.parse(line.slice(6)) as RpcMessage)
    : text
      ? [JSON.parse(text) as RpcMessage]
      : [];
  return { status: res.status, text, messages };
}

async function expectHealthy(): Promise<void> {
  const res = await fetch(`${temp.hub.url}/v1/health`);
  expect(res.status).toBe(200);
}

/** A value of any type, with the edges that break schemas most often. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom(null, true, 0, -1, 0.5, 1e308, -1e308, 2 ** 53, '', ' ', [], {}, '__proto__'),
  fc.constantFrom('fuzz-managed', 'fuzz-passive', 'nobody', '@fuzz-managed', 'x'.repeat(70_000)),
);

/** Arguments that end a wait at once: a generated wait could hold the property for minutes. */
function noLongWaits(args: Record<string, unknown>): Record<string, unknown> {
  const out = { ...args };
  for (const key of ['wait', 'timeoutSeconds']) {
    if (typeof out[key] === 'number' && (out[key] as number) > 0) out[key] = 0;
  }
  if (out.adaptiveWait === false && typeof out.timeoutSeconds !== 'number') out.timeoutSeconds = 0;
  return out;
}

/** `tools/call` bodies: a tool (or not) with generated arguments (or none, or not an object). */
function calls(): fc.Arbitrary<string> {
  const names = Object.keys(tools);
  const call = fc.oneof(
    ...names.map((name) => {
      const keys = tools[name] ?? [];
      const known = keys.length > 0 ? fc.constantFrom(...keys) : fc.string();
      const args = fc
        .dictionary(
          fc.oneof({ weight: 5, arbitrary: known }, { weight: 1, arbitrary: fc.string() }),
          anyValue,
          {
            maxKeys: 5,
          },
        )
        .map(noLongWaits);
      return fc.record({
        name: fc.constant(name),
        arguments: fc.oneof({ weight: 8, arbitrary: args }, { weight: 1, arbitrary: anyValue }),
      });
    }),
    fc.record({
      name: fc.string({ maxLength: 40 }),
      arguments: fc.dictionary(fc.string(), anyValue, { maxKeys: 3 }),
    }),
  );
  return fc
    .tuple(call, fc.oneof(fc.integer(), fc.string({ maxLength: 10 })))
    .map(([params, id]) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }));
}

describe('/mcp tools/call with generated arguments', () => {
  it(
    'answers every call with a JSON-RPC message, never a 5xx or a hidden internal error',
    { timeout: 120_000 },
    async () => {
      const seen = { ok: 0, toolError: 0, rpcError: 0 };
      await fc.assert(
        fc.asyncProperty(calls(), async (body) => {
          const reply = await rpc(body);
          const what = `${body.slice(0, 300)} -> ${reply.status} ${reply.text.slice(0, 300)}`;
          expect(reply.status, what).toBeLessThan(500);
          expect(reply.messages, what).toHaveLength(1);
          const message = reply.messages[0] as RpcMessage;
          expect(message.jsonrpc, what).toBe('2.0');
          if (message.error) {
            expect(message.error.message, what).not.toBe('');
            seen.rpcError += 1;
            return;
          }
          const result = message.result as { isError?: boolean; content: { text: string }[] };
          if (result.isError) {
            expect(result.content[0]?.text, what).not.toMatch(/^internal:/);
            seen.toolError += 1;
          } else seen.ok += 1;
        }),
        { numRuns: 300 },
      );
      await expectHealthy();
      // The runs reached every kind of answer.
      expect(seen.ok).toBeGreaterThan(0);
      expect(seen.toolError).toBeGreaterThan(0);
      expect(seen.rpcError).toBeGreaterThan(0);
    },
  );

  it('answers broken or deeply nested bodies with a 4xx JSON-RPC error', { timeout: 60_000 }, async () => {
    const broken = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, deep: false })),
      fc.jsonValue({ maxDepth: 3 }).map((value) => ({ text: JSON.stringify(value) ?? '', deep: false })),
      fc.integer({ min: 65, max: 5_000 }).map((depth) => ({
        text: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_message","arguments":{"text":"x","to":${'['.repeat(depth)}${']'.repeat(depth)}}}}`,
        deep: true,
      })),
    );
    await fc.assert(
      fc.asyncProperty(broken, async ({ text, deep }) => {
        const reply = await rpc(text);
        const what = `${text.slice(0, 200)} -> ${reply.status} ${reply.text.slice(0, 300)}`;
        expect(reply.status, what).toBeLessThan(500);
        if (deep) expect(reply.status, what).toBe(400);
        if (reply.status >= 400) expect(reply.messages[0]?.error?.message, what).toBeTruthy();
      }),
      { numRuns: 150 },
    );
    await expectHealthy();
  });

  it('still serves a plain call afterwards', async () => {
    const reply = await rpc(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'send_message', arguments: { text: 'after the fuzzing' } },
      }),
    );
    expect(reply.status).toBe(200);
    expect(reply.messages[0]?.result).toMatchObject({
      structuredContent: { message: { body: 'after the fuzzing' } },
    });
  });
});
