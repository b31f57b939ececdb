/**
 * Tool-permission approvals against a real hub, with the test playing the gateway over a real
 * WebSocket: a `permission_requested` event becomes a pending approval; a user's approve or deny
 * reaches the gateway as a `permission` frame (again after a reconnect, until the gateway confirms
 * it with `permission_decided`); a timeout, a policy or the end of the attempt settles it without a
 * user; only users may read or decide. Also: result details and the resume fallback round-trip.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  approvalSchema,
  assignmentSchema,
  createdAgentSchema,
  errorBodySchema,
  gatewayConnectResultSchema,
  meSchema,
  type Approval,
  type ErrorCode,
  type GatewayFrameOf,
  type ProviderEventData,
  type RunEvent,
} from '../../protocol/src/index.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

let temp: TempHub;
let ownerId: string;

beforeAll(async () => {
  temp = await startTempHub('gantry-approvals-');
  ownerId = meSchema.parse(ok(await call('/v1/me'))).principal.id;
});

afterAll(() => temp?.stop());

afterEach(() => closeGateways());

// ---- REST helpers --------------------------------------------------------------------------------

interface Reply {
  status: number;
  body: unknown;
}

async function call(path: string, init: { token?: string; method?: string; json?: unknown } = {}) {
  const res = await fetch(`${temp.hub.url}${path}`, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${init.token ?? temp.ownerToken}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: res.status, body: (await res.json()) as unknown } satisfies Reply;
}

function ok(reply: Reply, status = 200): unknown {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  return reply.body;
}

/** Asserts an error reply; returns its message. */
function expectError(reply: Reply, status: number, code: ErrorCode): string {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  const { error } = errorBodySchema.parse(reply.body);
  expect(error.code).toBe(code);
  return error.message;
}

const decide = (id: string, verb: 'approve' | 'deny', token?: string) =>
  call(`/v1/approvals/${id}/${verb}`, { method: 'POST', token });

async function approvalsOf(assignmentId: string): Promise<Approval[]> {
  const all = approvalSchema.array().parse(ok(await call('/v1/approvals')));
  return all.filter((a) => a.assignmentId === assignmentId);
}

async function getApproval(id: string): Promise<Approval> {
  return approvalSchema.parse(ok(await call(`/v1/approvals/${id}`)));
}

/** The one approval of an assignment's request. */
async function approvalFor(assignmentId: string, requestId: string): Promise<Approval> {
  const mine = (await approvalsOf(assignmentId)).filter((a) => a.input === inputOf(requestId));
  expect(mine).toHaveLength(1);
  return mine[0] as Approval;
}

// ---- a running attempt on a fake gateway ---------------------------------------------------------

let agentCount = 0;

type Ref = { assignmentId: string; attempt: number };

/** An agent served by a fake gateway, and an assignment of it taken to `running`. */
async function runningAttempt(body: Record<string, unknown> = {}) {
  agentCount += 1;
  const agent = createdAgentSchema.parse(
    ok(await call('/v1/agents', { json: { name: `approvals-agent-${agentCount}` } }), 201),
  );
  const connect = gatewayConnectResultSchema.parse(
    ok(
      await call('/v1/gateways/connect', {
        token: agent.key,
        json: { name: `approvals-gw-${agentCount}`, provider: 'echo' },
      }),
    ),
  );
  const gatewayToken = connect.gatewayToken ?? '';
  const hello = (held: Ref[]) => ({
    t: 'hello' as const,
    token: gatewayToken,
    version: 'test',
    slots: 1,
    agents: [{ agentId: agent.id, provider: 'echo', slots: 1 }],
    held: held.map((h) => ({ ...h, state: 'running' as const })),
  });
  const connectGateway = async (held: Ref[]) => {
    const gw = await FakeGateway.open(temp.hub.url);
    await gw.next('welcome');
    await gw.ask(hello(held), 'hello_ok');
    return gw;
  };

  const gw = await connectGateway([]);
  const created = assignmentSchema.parse(
    ok(await call('/v1/assignments', { json: { agent: agent.name, prompt: 'touch a file', ...body } }), 201),
  );
  const offer = await gw.next('offer');
  const ref: Ref = { assignmentId: offer.assignment.id, attempt: offer.assignment.attempt };
  await gw.ask({ t: 'accept', ...ref }, 'claimed');
  await gw.ask({ t: 'starting', ...ref }, 'start');
  gw.send({ t: 'running', ...ref });

  let seq = 0;
  const run = {
    agent,
    created,
    offer: offer.assignment,
    ref,
    gw,
    /** Sends events as the gateway's outbox would, and waits for the hub's ack. */
    async emit(...events: Omit<RunEvent, 'seq' | 'ts'>[]): Promise<void> {
      const batch = events.map((e) => ({ ...e, seq: (seq += 1), ts: new Date().toISOString() }));
      const ack = await run.gw.ask({ t: 'events', ...run.ref, events: batch }, 'events_ack');
      expect(ack.seq).toBe(seq);
    },
    /** Replays already acknowledged events (a gateway that missed the ack). */
    async replay(events: RunEvent[]): Promise<void> {
      await run.gw.ask({ t: 'events', ...run.ref, events }, 'events_ack');
    },
    /** Drops the connection and connects again, holding the running attempt. */
    async reconnect(): Promise<FakeGateway> {
      await run.gw.close();
      run.gw = await connectGateway([run.ref]);
      return run.gw;
    },
    /** Sends the attempt's result (succeeded, `done`, unless told otherwise). */
    async finish(result: Partial<Omit<GatewayFrameOf<'result'>, 't' | keyof Ref>> = {}): Promise<void> {
      const frame = { status: 'succeeded', output: 'done', exitCode: 0, lastSeq: seq, ...result } as const;
      await run.gw.ask({ t: 'result', ...run.ref, ...frame }, 'result_ack');
    },
  };
  return run;
}

const inputOf = (requestId: string) => `touch ${requestId}.txt`;

function requested(requestId: string, input = inputOf(requestId)) {
  const data: ProviderEventData<'permission_requested'> = { requestId, tool: 'Bash', input };
  return { type: 'permission_requested', data };
}

function decided(
  requestId: string,
  decision: 'approved' | 'denied',
  by: 'user' | 'policy' | 'timeout',
  approvalId?: string,
) {
  const data: ProviderEventData<'permission_decided'> = {
    requestId,
    decision,
    by,
    ...(approvalId ? { approvalId } : {}),
  };
  return { type: 'permission_decided', data };
}

/** How long a test waits to be sure a frame the hub must not send does not come. */
const quietMs = 300;

/** The audit entries about one subject, read from the hub's database file. */
function auditOf(subject: string) {
  const db = new Database(join(temp.dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select actor, action, data from audit where subject = ?').all(subject) as {
      actor: string;
      action: string;
      data: string;
    }[];
  } finally {
    db.close();
  }
}

// ---- tests ---------------------------------------------------------------------------------------

describe('a permission request', () => {
  it('becomes one pending approval, however often its event is replayed', async () => {
    const run = await runningAttempt();
    await run.emit(
      { type: 'output', data: { text: 'working' } },
      requested('req-1', 'touch notes.txt\nrm -rf x'),
    );

    const [approval] = await approvalsOf(run.ref.assignmentId);
    expect(approval).toMatchObject({
      kind: 'tool_permission',
      status: 'pending',
      subject: 'Bash: touch notes.txt …',
      tool: 'Bash',
      input: 'touch notes.txt\nrm -rf x',
      agent: { id: run.agent.id, name: run.agent.name },
      assignmentId: run.ref.assignmentId,
      attempt: 1,
      decidedAt: null,
      decidedBy: null,
    });
    expect(approval?.id).toMatch(/^apv_/);
    expect(await getApproval(approval?.id ?? '')).toEqual(approval);
    const pending = approvalSchema.array().parse(ok(await call('/v1/approvals?status=pending')));
    expect(pending.map((a) => a.id)).toContain(approval?.id);

    await run.replay([{ seq: 2, ts: new Date().toISOString(), ...requested('req-1', 'replayed') }]);
    expect(await approvalsOf(run.ref.assignmentId)).toEqual([approval]);
  });

  it('is approved by the owner: recorded, audited, sent to the gateway, then confirmed', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-ok'));
    const pending = await approvalFor(run.ref.assignmentId, 'req-ok');

    const approved = approvalSchema.parse(ok(await decide(pending.id, 'approve')));
    expect(approved).toMatchObject({ id: pending.id, status: 'approved', decidedBy: ownerId });
    expect(Date.parse(approved.decidedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(pending.createdAt));
    expect(await run.gw.next('permission')).toEqual({
      t: 'permission',
      ...run.ref,
      requestId: 'req-ok',
      approvalId: pending.id,
      decision: 'approved',
    });
    expect(auditOf(pending.id)).toEqual([
      expect.objectContaining({ actor: `user:${ownerId}`, action: 'approval_approved' }),
    ]);

    expect(approved.answered).toBe(false);
    // The decision is an event of the workspace.
    const events = ok(await call('/v1/events?since=0&type=approval.')) as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(events.at(-1)).toMatchObject({
      type: 'approval.decided',
      data: { approvalId: pending.id, kind: 'tool_permission', status: 'approved' },
    });
    await run.emit(decided('req-ok', 'approved', 'user', pending.id));
    expect(await getApproval(pending.id)).toEqual({ ...approved, answered: true });
  });

  it('is an approval.requested entry of the workspace, which agent keys never read', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-news'));
    const pending = await approvalFor(run.ref.assignmentId, 'req-news');
    const events = ok(await call('/v1/events?since=0&type=approval.requested')) as {
      subject: string;
    }[];
    expect(events.find((e) => e.subject === pending.id)).toMatchObject({
      type: 'approval.requested',
      actor: { kind: 'agent', id: run.agent.id, name: run.agent.name },
      data: {
        approvalId: pending.id,
        kind: 'tool_permission',
        status: 'pending',
        subject: pending.subject,
        agent: { id: run.agent.id, name: run.agent.name },
        assignmentId: run.ref.assignmentId,
      },
    });
    // Approvals are for people (DESIGN §5): the agent's key reads none of them in the log.
    ok(await decide(pending.id, 'deny'));
    expect(ok(await call('/v1/events?since=0&type=approval.', { token: run.agent.key }))).toEqual([]);
  });

  it('is denied by the owner, and the gateway gets a deny', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-no'));
    const pending = await approvalFor(run.ref.assignmentId, 'req-no');

    expect(ok(await decide(pending.id, 'deny'))).toMatchObject({ status: 'denied', decidedBy: ownerId });
    expect(await run.gw.next('permission')).toMatchObject({ requestId: 'req-no', decision: 'denied' });
    expect(auditOf(pending.id).map((e) => e.action)).toEqual(['approval_denied']);
  });

  it('is decided once: a second decision is a 409 naming the status', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-twice'));
    const { id } = await approvalFor(run.ref.assignmentId, 'req-twice');
    ok(await decide(id, 'approve'));
    await run.gw.next('permission');

    expect(expectError(await decide(id, 'approve'), 409, 'conflict')).toMatch(/already approved/);
    const reply = await decide(id, 'deny');
    expect(expectError(reply, 409, 'conflict')).toMatch(/already approved/);
    expect(errorBodySchema.parse(reply.body).error.details).toEqual({ status: 'approved' });
    expect((await getApproval(id)).status).toBe('approved');
    await sleep(quietMs);
    expect(run.gw.count('permission')).toBe(0);
  });
});

describe('who may see and decide', () => {
  it('refuses agent keys and gateway tokens with 403; unknown ids are 404', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-auth'));
    const { id } = await approvalFor(run.ref.assignmentId, 'req-auth');
    const connect = gatewayConnectResultSchema.parse(
      ok(
        await call('/v1/gateways/connect', {
          token: run.agent.key,
          json: { name: 'second', provider: 'echo' },
        }),
      ),
    );

    for (const token of [run.agent.key, connect.gatewayToken ?? '']) {
      expectError(await call('/v1/approvals', { token }), 403, 'forbidden');
      expectError(await call(`/v1/approvals/${id}`, { token }), 403, 'forbidden');
      expectError(await decide(id, 'approve', token), 403, 'forbidden');
      expectError(await decide(id, 'deny', token), 403, 'forbidden');
    }
    expect((await getApproval(id)).status).toBe('pending');

    expectError(await call('/v1/approvals/apv_missing'), 404, 'not_found');
    expectError(await decide('apv_missing', 'approve'), 404, 'not_found');
    expectError(await call('/v1/approvals?status=maybe'), 400, 'invalid_request');
  });
});

describe('a gateway that reconnects', () => {
  it('gets the decisions it has not confirmed, and only those', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-seen'), requested('req-away'));
    const seen = await approvalFor(run.ref.assignmentId, 'req-seen');
    const away = await approvalFor(run.ref.assignmentId, 'req-away');
    ok(await decide(seen.id, 'approve'));
    await run.gw.next('permission');
    await run.emit(decided('req-seen', 'approved', 'user', seen.id));

    await run.gw.close();
    ok(await decide(away.id, 'deny')); // while no gateway is there to hear it
    const gw = await run.reconnect();
    expect(await gw.next('permission')).toEqual({
      t: 'permission',
      ...run.ref,
      requestId: 'req-away',
      approvalId: away.id,
      decision: 'denied',
    });
    await sleep(quietMs);
    expect(gw.count('permission')).toBe(0);

    // Once confirmed, the next reconnect sends nothing.
    await run.emit(decided('req-away', 'denied', 'user', away.id));
    const again = await run.reconnect();
    await sleep(quietMs);
    expect(again.count('permission')).toBe(0);
  });
});

describe('settled without a user', () => {
  it('expires on the gateway timeout, and then cannot be decided', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-late'));
    const { id } = await approvalFor(run.ref.assignmentId, 'req-late');
    await run.emit(decided('req-late', 'denied', 'timeout'));

    const expired = await getApproval(id);
    expect(expired).toMatchObject({ status: 'expired', decidedBy: 'timeout' });
    expect(expired.decidedAt).not.toBeNull();
    expect(expectError(await decide(id, 'approve'), 409, 'conflict')).toMatch(/already expired/);
    await sleep(quietMs);
    expect(run.gw.count('permission')).toBe(0);
  });

  it('expires on the gateway timeout even when a decision was on its way', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-race'));
    const { id } = await approvalFor(run.ref.assignmentId, 'req-race');
    ok(await decide(id, 'approve'));
    // The gateway had already given up on the request: the agent was denied, whatever the user said.
    await run.emit(decided('req-race', 'denied', 'timeout'));
    expect(await getApproval(id)).toMatchObject({ status: 'expired', decidedBy: 'timeout' });
    const gw = await run.reconnect();
    await sleep(quietMs);
    expect(gw.count('permission')).toBe(0);
  });

  it("takes the binding policy's decision", async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-allow'), decided('req-allow', 'approved', 'policy'));
    await run.emit(requested('req-deny'), decided('req-deny', 'denied', 'policy'));
    expect(await approvalFor(run.ref.assignmentId, 'req-allow')).toMatchObject({
      status: 'approved',
      decidedBy: 'policy',
    });
    expect(await approvalFor(run.ref.assignmentId, 'req-deny')).toMatchObject({
      status: 'denied',
      decidedBy: 'policy',
    });
  });

  it('expires when its attempt ends with a result', async () => {
    const run = await runningAttempt();
    await run.emit(requested('req-open'), requested('req-done'));
    const done = await approvalFor(run.ref.assignmentId, 'req-done');
    ok(await decide(done.id, 'approve'));
    await run.finish();

    const open = await approvalFor(run.ref.assignmentId, 'req-open');
    expect(open).toMatchObject({ status: 'expired', decidedBy: null });
    expect(open.decidedAt).not.toBeNull();
    expect((await getApproval(done.id)).status).toBe('approved');
    expect(expectError(await decide(open.id, 'deny'), 409, 'conflict')).toMatch(/run ended/);
  });

  it('expires when its attempt is lost and the assignment retried', async () => {
    const run = await runningAttempt({ retries: 1 });
    await run.emit(requested('req-lost'));
    await run.finish({ status: 'lost', output: '', exitCode: null });

    const retry = await run.gw.next('offer');
    expect(retry.assignment).toMatchObject({ id: run.ref.assignmentId, attempt: 2 });
    const [lost] = await approvalsOf(run.ref.assignmentId);
    expect(lost).toMatchObject({ status: 'expired', attempt: 1 });
  });
});

describe('assignments', () => {
  it('keep the resume fallback and offer it to the gateway; default fail', async () => {
    const run = await runningAttempt({ mode: 'continue', resumeFallback: 'new' });
    expect(run.created).toMatchObject({ mode: 'continue', resumeFallback: 'new' });
    expect(run.offer).toMatchObject({ mode: 'continue', resumeFallback: 'new' });

    const plain = await runningAttempt();
    expect(plain.created.resumeFallback).toBe('fail');
    expect(plain.offer.resumeFallback).toBe('fail');

    const bad = await call('/v1/assignments', {
      json: { agent: run.agent.name, prompt: 'x', resumeFallback: 'retry' },
    });
    expectError(bad, 400, 'invalid_request');
  });

  it("serve the result's details (branch, changed files, usage) when the gateway sent them", async () => {
    const details = {
      branch: 'gantry/asg-details',
      changedFiles: ['notes.txt', 'src/a.ts'],
      usage: { inputTokens: 120, outputTokens: 40, costUsd: 0.002 },
    };
    const run = await runningAttempt();
    await run.finish({ output: 'made notes', details });
    const got = assignmentSchema.parse(ok(await call(`/v1/assignments/${run.ref.assignmentId}`)));
    expect(got.result).toEqual({ output: 'made notes', exitCode: 0, ...details });

    const plain = await runningAttempt();
    await plain.finish();
    const without = assignmentSchema.parse(ok(await call(`/v1/assignments/${plain.ref.assignmentId}`)));
    expect(without.result).toEqual({ output: 'done', exitCode: 0 });
  });
});
