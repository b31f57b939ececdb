// Issue 14, runs outlive the gateway, for a protocol over stdin: an ACP run's stdin is its
// supervisor's, so `kill -9` of the daemon and `gateway restart` no longer lose or stop it. The
// next daemon takes it back: a permission request pending when the daemon died still becomes the
// user's decision in the run; events reach the hub once and in order; the result is delivered once;
// a taken-back run can be cancelled. With the scripted ACP agent, the real claude-agent-acp against
// a fake Anthropic API, and the real Codex CLI (`--permission ask` drives `codex app-server`) against
// a fake OpenAI Responses API.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval, Assignment, AssignmentEvent } from '@gantry/protocol';
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { codexHomeFor, startOpenAiResponses } from '../fake-models/openai-responses.ts';
import { eventually, Sandbox } from '../harness.ts';
import { connectArgs, createAgent, startHub } from '../fixtures.ts';
import { groupRunning, processRunning } from '../processes.ts';

const scriptedAgent = join(import.meta.dirname, '../fake-models/acp-agent.mjs');
let box: Sandbox;
let fake: FakeModel | undefined;
afterEach(async () => {
  await box.run(['gateway', 'stop']);
  await box.cleanup();
  await fake?.close();
  fake = undefined;
  daemonEnv = {};
});

async function setup(bin: string, env: Record<string, string> = {}, provider = 'acp', flags: string[] = []) {
  box = new Sandbox();
  const { ready } = await startHub(box);
  const agent = await createAgent(box, 'worker');
  const connected = await box.run([...connectArgs(ready.url, agent.key, provider, bin), ...flags], env);
  expect(connected.code, connected.stderr).toBe(0);
}

let daemonEnv: Record<string, string> = {};
const start = async () => {
  const started = await box.run(['gateway', 'start', '--detach', '--port', '0'], daemonEnv);
  expect(started.code, started.stderr).toBe(0);
  return daemonPid();
};
const daemonPid = () => Number(readFileSync(join(box.home, 'data', 'gateway.pid'), 'utf8').trim());
const killDaemon = async () => {
  const pid = daemonPid();
  process.kill(pid, 'SIGKILL');
  await eventually(async () => (processRunning(pid) ? undefined : true));
};
const events = (id: string) => box.json<AssignmentEvent[]>(['assignments', 'events', id]);
/** The agent's process group, from its run's spool. */
const agentGroup = () => {
  const spool = join(box.home, 'data', 'spool');
  const [run] = readdirSync(spool, { withFileTypes: true }).filter((e) => e.isDirectory());
  const head = readFileSync(join(spool, run?.name ?? '', 'output.jsonl'), 'utf8').split('\n')[0] ?? '{}';
  return Number((JSON.parse(head) as { pid?: number }).pid);
};

async function pendingApproval(id: string): Promise<Approval> {
  return eventually(async () => {
    const pending = await box.json<Approval[]>(['approvals', 'list', '--status', 'pending']);
    return pending.find((a) => a.assignmentId === id);
  }, 60_000);
}

async function finished(id: string): Promise<Assignment> {
  return eventually(async () => {
    const a = await box.json<Assignment>(['assignments', 'show', id]);
    return ['succeeded', 'failed', 'lost', 'cancelled', 'timed_out'].includes(a.state) ? a : undefined;
  }, 60_000);
}

/** Each event once, numbered 1.. without a gap, all of attempt 1; one decision. */
async function once(id: string): Promise<AssignmentEvent[]> {
  const list = await events(id);
  expect(list.map((e) => e.seq)).toEqual(list.map((_e, i) => i + 1));
  expect(new Set(list.map((e) => e.attempt))).toEqual(new Set([1]));
  expect(list.filter((e) => e.type === 'permission_requested')).toHaveLength(1);
  expect(list.filter((e) => e.type === 'permission_decided')).toHaveLength(1);
  return list;
}

describe('ACP runs outlive the gateway', () => {
  it('a run waiting on a permission survives kill -9; the decision made meanwhile reaches it', async () => {
    await setup(scriptedAgent);
    await start();
    const made = await box.json<Assignment>(['assign', 'worker', 'edit the notes']);
    const approval = await pendingApproval(made.id);
    const group = agentGroup();
    await killDaemon();
    expect(groupRunning(group)).toBe(true); // the agent goes on without its daemon
    expect((await box.json<Approval>(['approvals', 'approve', approval.id])).status).toBe('approved');

    await start();
    const done = await finished(made.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 1, result: { output: 'Wrote the notes.' } });
    const list = await once(made.id);
    expect(list.find((e) => e.type === 'permission_decided')?.data).toMatchObject({ decision: 'approved' });
    expect(list.find((e) => e.type === 'tool_finished')?.data).toMatchObject({ status: 'completed' });
    expect(list.filter((e) => e.type === 'message').map((e) => e.data.text)).toEqual([
      'I will write the notes.',
      'Wrote the notes.',
    ]);
    expect(groupRunning(group)).toBe(false);
  }, 240_000);

  it('a taken-back run is cancelled: its whole group is gone', async () => {
    await setup(scriptedAgent);
    await start();
    const made = await box.json<Assignment>(['assign', 'worker', 'edit hold']);
    const approval = await pendingApproval(made.id);
    await box.json<Approval>(['approvals', 'approve', approval.id]);
    await eventually(async () =>
      (await events(made.id)).some((e) => e.type === 'permission_decided') ? true : undefined,
    );
    const group = agentGroup();
    await killDaemon();
    await start();
    await eventually(async () => ((await box.run(['gateway', 'status'])).code === 0 ? true : undefined));
    expect(groupRunning(group)).toBe(true);

    expect((await box.run(['assignments', 'cancel', made.id])).code).toBe(0);
    expect(await finished(made.id)).toMatchObject({ state: 'cancelled', attempt: 1 });
    expect(groupRunning(group)).toBe(false);
    await once(made.id);
  }, 240_000);

  it('the real claude-agent-acp: a run waiting on a permission goes on across `gateway restart`', async () => {
    fake = await startAnthropicMessages();
    const home = join(process.env.TMPDIR ?? '/tmp', `gantry-acp-home-${process.pid}`);
    mkdirSync(home, { recursive: true });
    daemonEnv = claudeEnvFor(fake, home);
    await setup(process.env.GANTRY_TEST_CLAUDE_ACP_BIN ?? 'claude-agent-acp', daemonEnv);
    await start();
    fake.script([{ kind: 'shell', command: 'echo made > made.txt', then: 'Created the file.' }]);
    const made = await box.json<Assignment>(['assign', 'worker', 'create the file']);
    const approval = await pendingApproval(made.id);
    const group = agentGroup();
    const before = daemonPid();

    const restarted = await box.run(['gateway', 'restart'], daemonEnv);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(daemonPid()).not.toBe(before);
    expect(groupRunning(group)).toBe(true); // the same agent, never restarted
    expect((await box.json<Approval>(['approvals', 'approve', approval.id])).status).toBe('approved');

    const done = await finished(made.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 1, result: { output: 'Created the file.' } });
    const list = await once(made.id);
    expect(list.find((e) => e.type === 'tool_finished')?.data).toMatchObject({
      name: 'Bash',
      status: 'completed',
    });
  }, 240_000);

  it('the real codex app-server: a run waiting on an approval survives kill -9 and gets the decision', async () => {
    fake = await startOpenAiResponses();
    const home = join(process.env.TMPDIR ?? '/tmp', `gantry-codex-home-${process.pid}`);
    mkdirSync(home, { recursive: true });
    daemonEnv = { HOME: home, ...codexHomeFor(fake, join(home, 'codex')) };
    await setup(process.env.GANTRY_TEST_CODEX_BIN ?? 'codex', daemonEnv, 'codex', ['--permission', 'ask']);
    await start();
    fake.script([{ kind: 'shell', command: 'echo made > made.txt', then: 'Finished.' }]);
    const made = await box.json<Assignment>(['assign', 'worker', 'please make the file']);
    const approval = await pendingApproval(made.id);
    const group = agentGroup();
    await killDaemon();
    expect(groupRunning(group)).toBe(true);
    expect((await box.json<Approval>(['approvals', 'approve', approval.id])).status).toBe('approved');

    await start();
    const done = await finished(made.id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 1, result: { output: 'Finished.' } });
    const list = await once(made.id);
    expect(list.find((e) => e.type === 'permission_decided')?.data).toMatchObject({ decision: 'approved' });
  }, 240_000);
});
