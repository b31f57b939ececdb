/**
 * Issue 12, "approvals reach a person": a tool request is an `approval.requested` entry and a
 * message to the person at the root of the run's chain (whose `inbox --wait` it wakes); a member
 * sees and decides the requests of runs in their chains and no one else's; folder approvals go to owners and
 * admins. And an approval outlives a hub restart: stored, re-sent to the reconnecting gateway,
 * decided once, the first answer winning.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  approvalSchema,
  assignmentSchema,
  createdAgentSchema,
  gatewayConnectResultSchema,
  inboxSchema,
  type Approval,
  type ProviderEventData,
} from '../../protocol/src/index.ts';
import { startHub, type RunningHub } from '../src/server.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';

let dir: string;
let hub: RunningHub;
let ownerToken: string;
const tokens: Record<'admin' | 'max' | 'mia', string> = { admin: '', max: '', mia: '' };

const start = () =>
  startHub({ host: '127.0.0.1', port: 0, db: join(dir, 'hub.db'), dataDir: dir }).then((h) => (hub = h));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-approvals-reach-'));
  await start();
  ownerToken = hub.bootstrap.ownerToken ?? '';
  for (const [handle, role] of [
    ['ada', 'admin'],
    ['max', 'member'],
    ['mia', 'member'],
  ] as const) {
    const created = (await call('/v1/users', { json: { handle, role } })).body as { token: string };
    tokens[handle === 'ada' ? 'admin' : handle] = created.token;
  }
});

afterAll(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => closeGateways());

async function call(path: string, init: { token?: string; json?: unknown; method?: string } = {}) {
  const res = await fetch(`${hub.url}${path}`, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${init.token ?? ownerToken}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

const approvals = async (token?: string) =>
  approvalSchema.array().parse((await call('/v1/approvals', { token })).body);

let count = 0;

/** An agent on a fake gateway, and a run of it that `token`'s person started, taken to `running`. */
async function runStartedBy(token: string) {
  count += 1;
  const agent = createdAgentSchema.parse(
    (await call('/v1/agents', { json: { name: `reach-agent-${count}` } })).body,
  );
  const { gatewayToken } = gatewayConnectResultSchema.parse(
    (
      await call('/v1/gateways/connect', {
        token: agent.key,
        json: { name: `reach-gw-${count}`, provider: 'echo' },
      })
    ).body,
  );
  const connect = async (held: { assignmentId: string; attempt: number }[]) => {
    const gw = await FakeGateway.open(hub.url);
    await gw.next('welcome');
    await gw.ask(
      {
        t: 'hello',
        token: gatewayToken ?? '',
        version: 'test',
        slots: 1,
        agents: [{ agentId: agent.id, provider: 'echo', slots: 1 }],
        held: held.map((h) => ({ ...h, state: 'running' as const })),
      },
      'hello_ok',
    );
    return gw;
  };
  const gw = await connect([]);
  const created = assignmentSchema.parse(
    (await call('/v1/assignments', { token, json: { agent: agent.name, prompt: 'touch a file' } })).body,
  );
  const offer = await gw.next('offer');
  const ref = { assignmentId: offer.assignment.id, attempt: offer.assignment.attempt };
  await gw.ask({ t: 'accept', ...ref }, 'claimed');
  const { runToken } = await gw.ask({ t: 'starting', ...ref }, 'start');
  gw.send({ t: 'running', ...ref });
  const run = {
    agent,
    runToken: runToken ?? '',
    created,
    ref,
    gw,
    connect,
    async ask(requestId: string, input = `echo @${agent.name} hi`): Promise<Approval> {
      const data: ProviderEventData<'permission_requested'> = { requestId, tool: 'Bash', input };
      const event = { type: 'permission_requested', data, seq: 1, ts: new Date().toISOString() };
      await run.gw.ask({ t: 'events', ...ref, events: [event] }, 'events_ack');
      const all = await approvals();
      return all.find((a) => a.assignmentId === ref.assignmentId) as Approval;
    },
  };
  return run;
}

describe('a tool request reaches the person who started the run', () => {
  it('is a message that wakes their inbox wait, and not a mention of anyone', async () => {
    const run = await runStartedBy(tokens.max);
    const waiting = call('/v1/inbox?wait=20000&markRead=true', { token: tokens.max });
    await sleep(200);
    const approval = await run.ask('req-1');
    const woke = inboxSchema.parse((await waiting).body);
    const [notice] = woke.messages;
    expect(notice).toMatchObject({
      author: { kind: 'agent', id: run.agent.id },
      metadata: { approval: { id: approval.id, kind: 'tool_permission', status: 'pending' } },
    });
    expect(notice?.body).toContain(`gantry approvals approve ${approval.id}`);
    expect(notice?.body).toContain(approval.subject);
    // The `@agent` in the command stays text: the notice is addressed to max alone.
    expect(notice?.mentions.map((m) => m.name)).toEqual(['max']);
    // Nobody else was written to.
    const owner = inboxSchema.parse((await call('/v1/inbox')).body);
    expect(owner.messages.some((m) => m.id === notice?.id)).toBe(false);
    const entries = (await call('/v1/events?since=0&type=approval.requested')).body as { subject: string }[];
    expect(entries.some((e) => e.subject === approval.id)).toBe(true);
  });

  it('is seen and decided by that member, by owners and admins, and by no other member', async () => {
    const run = await runStartedBy(tokens.max);
    const approval = await run.ask('req-2');
    const mine = await approvals(tokens.max);
    expect(mine.map((a) => a.id)).toContain(approval.id);
    expect(mine.every((a) => a.kind === 'tool_permission')).toBe(true);
    expect((await approvals(tokens.admin)).map((a) => a.id)).toContain(approval.id);
    expect(await approvals(tokens.mia)).toEqual([]);
    expect((await call(`/v1/approvals/${approval.id}`, { token: tokens.mia })).status).toBe(404);
    const refused = await call(`/v1/approvals/${approval.id}/approve`, { token: tokens.mia, json: {} });
    expect(refused.status).toBe(404);

    const ok = await call(`/v1/approvals/${approval.id}/approve`, { token: tokens.max, json: {} });
    expect(ok.status).toBe(200);
    expect(approvalSchema.parse(ok.body)).toMatchObject({ status: 'approved' });
    expect(await run.gw.next('permission')).toMatchObject({ approvalId: approval.id, decision: 'approved' });
  });

  it('of a run deeper in a chain goes to the person at its root', async () => {
    const first = await runStartedBy(tokens.max);
    // The first run hands work to another agent with its run token: the same chain, one deeper.
    const second = await runStartedBy(first.runToken);
    const approval = await second.ask('req-deep');
    expect((await approvals(tokens.max)).map((a) => a.id)).toContain(approval.id);
    expect((await approvals(tokens.mia)).map((a) => a.id)).not.toContain(approval.id);
    const inbox = inboxSchema.parse((await call('/v1/inbox', { token: tokens.max })).body);
    expect(inbox.messages.some((m) => m.body.includes(approval.id))).toBe(true);
    const ok = await call(`/v1/approvals/${approval.id}/deny`, { token: tokens.max, json: {} });
    expect(ok.status).toBe(200);
  });

  it('of a folder goes to the owners and admins, not to members', async () => {
    const run = await runStartedBy(ownerToken);
    const gw = gatewayConnectResultSchema.parse(
      (
        await call('/v1/gateways/connect', {
          token: run.agent.key,
          json: { name: `reach-folder-gw`, provider: 'echo' },
        })
      ).body,
    );
    const folder = await call('/v1/gateways/folders', {
      token: gw.gatewayToken ?? '',
      json: { name: 'reach-terminal', workdir: '/srv/reach', host: 'box', osUser: 'dev' },
    });
    expect(folder.status).toBeLessThan(300);
    const { id } = folder.body as { id: string };
    const noticed = async (token: string) =>
      inboxSchema
        .parse((await call('/v1/inbox', { token })).body)
        .messages.some((m) => (m.metadata as { approval?: { id?: string } }).approval?.id === id);
    expect(await noticed(ownerToken)).toBe(true);
    expect(await noticed(tokens.admin)).toBe(true);
    expect(await noticed(tokens.max)).toBe(false);
    expect((await approvals(tokens.max)).some((a) => a.id === id)).toBe(false);
  });
});

describe('an approval outlives a hub restart', () => {
  it('is stored, decided once (the first answer wins) and re-sent to the gateway', async () => {
    const run = await runStartedBy(tokens.max);
    const approval = await run.ask('req-restart');
    await run.gw.close();
    await hub.close();
    await start();

    // Two people answer at once: one wins, the other is told it was already decided.
    const answers = await Promise.all([
      call(`/v1/approvals/${approval.id}/deny`, { token: tokens.max, json: {} }),
      call(`/v1/approvals/${approval.id}/approve`, { token: tokens.admin, json: {} }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const winner = approvalSchema.parse(answers.find((a) => a.status === 200)?.body);

    const gw = await run.connect([run.ref]);
    expect(await gw.next('permission')).toMatchObject({
      requestId: 'req-restart',
      approvalId: approval.id,
      decision: winner.status,
    });
    await sleep(300);
    expect(gw.count('permission')).toBe(0);
    expect((await approvals(tokens.max)).find((a) => a.id === approval.id)?.status).toBe(winner.status);
  });
});
