// What leaves a run (issue 10, item 6): its events, its permission requests and its result are
// masked for key shapes, for the values of its secret variables, and for the secret half of the
// gateway's own tokens, whichever provider produced them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfferedAssignment } from '@gantry/protocol';
import type { PermissionRequest, Provider, RunRequest } from '../src/providers/provider.ts';
import { runProvider } from '../src/run-provider.ts';
import type { GatewaySession } from '../src/session-file.ts';
import { GatewayDb } from '../src/state/gateway-db.ts';

const agentSecret = 'aZ3xQ9mK2pL7vB4nAgentSecretHalf0123456789ab';
const gatewaySecret = 'Qq8wE7rT6yU5iO4pGatewaySecretHalf987654321';
const passed = 'passed-value-8chars+';
const openai = 'openai-family-secret-value';
const github = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
const leaks = [agentSecret, gatewaySecret, passed, openai, github.slice(4)];

let dir: string;
let db: GatewayDb;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-run-provider-'));
  db = new GatewayDb(join(dir, 'gateway.db'));
  process.env.LEAK_TEST_PASSED = passed;
  process.env.LEAKTEST_API_KEY = openai;
  process.env.LEAKTEST_BASE_URL = 'http://127.0.0.1:9/not-a-secret';
});
afterAll(() => {
  db.close();
  for (const name of ['LEAK_TEST_PASSED', 'LEAKTEST_API_KEY', 'LEAKTEST_BASE_URL']) delete process.env[name];
  rmSync(dir, { recursive: true, force: true });
});

/** A provider that prints everything it was given, and asks to run a command holding a key. */
const leaky: Provider = {
  name: 'leaky',
  envFamilies: ['LEAKTEST_'],
  check: async () => ({ ok: true, detail: 'test' }),
  async run(request: RunRequest) {
    const everything = `${request.env.LEAK_TEST_PASSED} ${request.env.LEAKTEST_API_KEY} ${agentSecret} ${gatewaySecret} ${github}`;
    await request.requestPermission({
      requestId: 'r1',
      tool: 'Bash',
      input: `curl -H 'x: ${github}' ${passed}`,
    });
    request.emit('output', { text: everything, raw: { nested: [everything] } });
    request.emit('output', { text: `base url ${request.env.LEAKTEST_BASE_URL}` });
    return {
      status: 'failed',
      output: everything,
      exitCode: 1,
      error: { code: 'provider_failed', message: `stderr: ${everything}` },
    };
  },
};

describe('runProvider', () => {
  it('masks events, permission requests and the result', async () => {
    const session: GatewaySession = {
      serverUrl: 'http://127.0.0.1:9',
      workspaceId: 'ws_1',
      gatewayId: 'gw_1',
      gatewayName: 'test',
      gatewayToken: `gnt_g_tok_0000000001.${gatewaySecret}`,
      provider: 'leaky',
      providerArgs: [],
      settings: {},
      workspaceRoot: dir,
      agents: [{ id: 'agt_1', name: 'bot', key: `gnt_a_tok_0000000002.${agentSecret}` }],
      updatedAt: new Date().toISOString(),
    };
    const offer: OfferedAssignment = {
      id: 'asg_1',
      attempt: 1,
      agentId: 'agt_1',
      agentName: 'bot',
      prompt: 'leak',
      sessionKey: 'default',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60_000,
    };
    const events: unknown[] = [];
    const asked: PermissionRequest[] = [];
    const outcome = await runProvider(
      {
        offer,
        runId: 'run_1',
        workdir: dir,
        provider: leaky,
        args: [],
        settings: { envPass: ['LEAK_TEST_PASSED'] },
      },
      { db, session, runDir: dir, worktreeDir: join(dir, 'worktrees') },
      {
        signal: new AbortController().signal,
        emit: (type, data) => events.push({ type, data }),
        room: () => undefined,
        requestPermission: async (request) => {
          asked.push(request);
          return 'approved';
        },
      },
    );
    const out = JSON.stringify({ events, asked, outcome });
    for (const secret of leaks) expect(out).not.toContain(secret);
    expect(asked).toEqual([
      { requestId: 'r1', tool: 'Bash', input: "curl -H 'x: ghp_[redacted]' [redacted]" },
    ]);
    expect(outcome.output).toBe('[redacted] [redacted] [redacted] [redacted] ghp_[redacted]');
    // A family variable that is no secret is shown as it is.
    expect(out).toContain('base url http://127.0.0.1:9/not-a-secret');
  });
});
