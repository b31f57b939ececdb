/**
 * The gateway WebSocket (`/v1/gateway/ws`) against a real hub, with the test playing the gateway.
 * Proves that bad frames and bad peers get `error` frames or a close, never a broken hub; that a
 * full assignment round trip (offer, accept, start, events, result) works and is idempotent where
 * the protocol says so; that the hub never offers more than the reported slots; and that a reject
 * or a lost socket puts an offered assignment back in the queue.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assignmentEventSchema,
  assignmentSchema,
  createdAgentSchema,
  gatewayConnectResultSchema,
  type Assignment,
  type AssignmentState,
  type HubFrameOf,
  type RunEvent,
} from '../../protocol/src/index.ts';
import type { RunningHub } from '../src/server.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

let temp: TempHub;
let hub: RunningHub;

beforeAll(async () => {
  temp = await startTempHub('gantry-ws-');
  hub = temp.hub;
});

afterAll(() => temp?.stop());

afterEach(() => closeGateways());

// ---- REST helpers --------------------------------------------------------------------------------

async function api(path: string, init: { token?: string; json?: unknown } = {}): Promise<unknown> {
  const res = await fetch(`${hub.url}${path}`, {
    method: init.json === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${init.token ?? hub.bootstrap.ownerToken}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const body: unknown = await res.json();
  expect(res.ok, `${path}: ${res.status} ${JSON.stringify(body)}`).toBe(true);
  return body;
}

async function expectHealthy(): Promise<void> {
  const res = await fetch(`${hub.url}/v1/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ ok: true });
}

async function createAssignment(agent: string, prompt: string): Promise<Assignment> {
  return assignmentSchema.parse(await api('/v1/assignments', { json: { agent, prompt } }));
}

async function getAssignment(id: string): Promise<Assignment> {
  return assignmentSchema.parse(await api(`/v1/assignments/${id}`));
}

async function getEvents(id: string) {
  return assignmentEventSchema.array().parse(await api(`/v1/assignments/${id}/events`));
}

/** Polls an assignment until it reaches a state. */
async function waitForState(id: string, state: AssignmentState, timeoutMs = 5_000): Promise<Assignment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const assignment = await getAssignment(id);
    if (assignment.state === state) return assignment;
    if (Date.now() > deadline) throw new Error(`assignment ${id} is ${assignment.state}, not ${state}`);
    await sleep(25);
  }
}

let agentCount = 0;

/** An agent and a gateway registered for it over REST, not yet connected. */
async function registerGateway() {
  agentCount += 1;
  const agent = createdAgentSchema.parse(
    await api('/v1/agents', { json: { name: `ws-agent-${agentCount}` } }),
  );
  const connect = gatewayConnectResultSchema.parse(
    await api('/v1/gateways/connect', {
      token: agent.key,
      json: { name: `ws-gw-${agentCount}`, provider: 'echo' },
    }),
  );
  if (!connect.gatewayToken) throw new Error('the first connect must mint a gateway token');
  return { agent, gatewayId: connect.gateway.id, gatewayToken: connect.gatewayToken };
}

/** A registered gateway, connected and past `hello`, serving its agent with `slots` slots. */
async function connectedGateway(slots = 1) {
  const registered = await registerGateway();
  const gw = await FakeGateway.open(hub.url);
  await gw.next('welcome');
  const helloOk = await gw.ask(
    {
      t: 'hello',
      token: registered.gatewayToken,
      version: 'test',
      slots,
      agents: [{ agentId: registered.agent.id, provider: 'echo', slots }],
      held: [],
    },
    'hello_ok',
  );
  return { ...registered, gw, helloOk };
}

/** How long a test waits to be sure a frame the hub must not send does not come. */
const quietMs = 300;

type Offer = HubFrameOf<'offer'>['assignment'];

const ref = (offer: Offer) => ({ assignmentId: offer.id, attempt: offer.attempt });

/** Takes an offer through accept and start, as a gateway that runs it would. */
async function startOffer(gw: FakeGateway, offer: Offer): Promise<void> {
  expect(await gw.ask({ t: 'accept', ...ref(offer) }, 'claimed')).toEqual({ t: 'claimed', ...ref(offer) });
  expect(await gw.ask({ t: 'starting', ...ref(offer) }, 'start')).toEqual({
    t: 'start',
    ...ref(offer),
    runToken: expect.stringMatching(/^gnt_r_/),
  });
}

/** A run event as a provider would emit it. */
function outputEvent(seq: number, line: string): RunEvent {
  return { seq, type: 'output', ts: new Date(Date.now() + seq).toISOString(), data: { line } };
}

/**
 * Waits until the hub has handled every frame sent so far: frames are handled in order, and a
 * `starting` for an assignment that does not exist is answered with a `revoke`.
 */
async function sync(gw: FakeGateway): Promise<void> {
  const probe = { assignmentId: 'asg_sync', attempt: 1 };
  await gw.ask({ t: 'starting', ...probe }, 'revoke', (frame) => frame.assignmentId === probe.assignmentId);
}

async function finishOffer(gw: FakeGateway, offer: Offer, output: string, lastSeq = 0): Promise<void> {
  const result = { status: 'succeeded', output, exitCode: 0, lastSeq } as const;
  const ack = await gw.ask({ t: 'result', ...ref(offer), ...result }, 'result_ack');
  expect(ack).toEqual({ t: 'result_ack', ...ref(offer) });
}

// ---- tests ---------------------------------------------------------------------------------------

describe('connecting', () => {
  it('greets every connection with a welcome nonce', async () => {
    const gw = await FakeGateway.open(hub.url);
    const welcome = await gw.next('welcome');
    expect(welcome.nonce).toMatch(/^[\w-]{16,}$/);
    const other = await FakeGateway.open(hub.url);
    expect((await other.next('welcome')).nonce).not.toBe(welcome.nonce);
  });

  it('answers hello with hello_ok naming the gateway and its agents', async () => {
    const { agent, gatewayId, helloOk } = await connectedGateway();
    expect(helloOk).toMatchObject({ gatewayId, agents: [{ id: agent.id, name: agent.name }] });
    expect(helloOk.heartbeatMs).toBeGreaterThan(0);
    expect(helloOk.leaseMs).toBeGreaterThan(0);
  });
});

describe('bad frames', () => {
  afterEach(expectHealthy);

  it.each([
    ['text that is not JSON', 'not json {', 'invalid_frame'],
    ['a binary frame', Buffer.from('{"t":"heartbeat"}'), 'invalid_frame'],
    ['an unknown frame type', JSON.stringify({ t: 'launch', target: 'moon' }), 'invalid_frame'],
    [
      'a hello without a token',
      JSON.stringify({ t: 'hello', version: 'x', slots: 1, agents: [], held: [] }),
      'invalid_frame',
    ],
  ])('answers %s after hello with an error frame and keeps the socket', async (_what, frame, code) => {
    // Before hello the first invalid frame closes the socket (handshakes.test.ts).
    const { gw } = await connectedGateway();
    gw.send(frame);
    expect(await gw.next('error')).toMatchObject({ code });

    // The connection still works: the same frame is answered again.
    gw.send(frame);
    expect(await gw.next('error')).toMatchObject({ code });
  });

  it.each([
    ['an unknown token', `gnt_g_tok_0000000000aaaaaaaaaaaaaaaa.${'A'.repeat(43)}`],
    ['text that is no token', 'let-me-in'],
  ])('refuses a hello with %s and closes with 4003', async (_what, token) => {
    const gw = await FakeGateway.open(hub.url);
    await gw.next('welcome');
    gw.send({ t: 'hello', token, version: 'test', slots: 1, agents: [], held: [] });
    expect(await gw.next('error')).toMatchObject({ code: 'unauthorized' });
    expect((await gw.closed).code).toBe(4003);
  });

  it('refuses a hello with an agent key instead of a gateway token', async () => {
    const { agent } = await registerGateway();
    const gw = await FakeGateway.open(hub.url);
    await gw.next('welcome');
    gw.send({ t: 'hello', token: agent.key, version: 'test', slots: 1, agents: [], held: [] });
    expect(await gw.next('error')).toMatchObject({ code: 'unauthorized' });
    expect((await gw.closed).code).toBe(4003);
  });

  it('disconnects a peer that keeps sending garbage (1008)', async () => {
    const gw = await FakeGateway.open(hub.url);
    await gw.next('welcome');
    for (let i = 0; i < 50; i += 1) gw.send(`garbage ${i}`);
    expect((await gw.closed).code).toBe(1008);
    expect(gw.count('error')).toBeGreaterThan(0);

    const next = await FakeGateway.open(hub.url);
    await next.next('welcome');
  });
});

describe('an assignment round trip', () => {
  it('offers, claims, starts, stores events once, and records the result', async () => {
    const { agent, gatewayId, gw } = await connectedGateway();
    const created = await createAssignment(agent.name, 'echo hello');

    const offer = await gw.next('offer');
    expect(offer.n).toBe(1);
    expect(offer.assignment).toMatchObject({
      id: created.id,
      attempt: 1,
      agentId: agent.id,
      agentName: agent.name,
      prompt: 'echo hello',
      sessionKey: 'default',
      mode: 'new',
    });
    expect(await getAssignment(created.id)).toMatchObject({ state: 'offered', gatewayId });

    await startOffer(gw, offer.assignment);
    expect((await getAssignment(created.id)).state).toBe('starting');
    gw.send({ t: 'running', ...ref(offer.assignment) });
    await waitForState(created.id, 'running');

    const events = [1, 2, 3].map((seq) => outputEvent(seq, `line ${seq}`));
    const batch = { t: 'events', ...ref(offer.assignment), events } as const;
    expect(await gw.ask(batch, 'events_ack')).toEqual({ t: 'events_ack', ...ref(offer.assignment), seq: 3 });
    // A replayed batch (the gateway did not see the ack) is acknowledged and changes nothing.
    expect((await gw.ask(batch, 'events_ack')).seq).toBe(3);
    expect(await getEvents(created.id)).toEqual(events.map((event) => ({ ...event, attempt: 1 })));

    await finishOffer(gw, offer.assignment, 'done', 3);
    const finished = await getAssignment(created.id);
    expect(finished).toMatchObject({
      state: 'succeeded',
      result: { output: 'done', exitCode: 0 },
      error: null,
    });
    expect(finished.finishedAt).not.toBeNull();
    expect(await getEvents(created.id)).toHaveLength(3);
  });

  it('refuses events for an assignment another gateway holds', async () => {
    const holder = await connectedGateway();
    const intruder = await connectedGateway();
    const created = await createAssignment(holder.agent.name, 'not yours');
    const offer = await holder.gw.next('offer');
    await startOffer(holder.gw, offer.assignment);

    intruder.gw.send({ t: 'events', ...ref(offer.assignment), events: [outputEvent(1, 'forged')] });
    await sync(intruder.gw);
    expect(await getEvents(created.id)).toEqual([]);
    // Acked without being stored, so a gateway that lost the attempt clears its outbox instead of replaying forever.
    expect(await intruder.gw.next('events_ack')).toMatchObject({ ...ref(offer.assignment), seq: 1 });
    expect(await intruder.gw.next('revoke')).toMatchObject(ref(offer.assignment));
  });
});

describe('refused output', () => {
  it('is kept in the audit log with its secrets masked', async () => {
    const holder = await connectedGateway();
    const intruder = await connectedGateway();
    const created = await createAssignment(holder.agent.name, 'not yours either');
    const offer = await holder.gw.next('offer');
    await startOffer(holder.gw, offer.assignment);
    const key = `sk-ant-api03-${'k3Y'.repeat(30)}`;
    const error = { code: 'provider_failed', message: `auth failed for ${key}` } as const;
    const result = { status: 'failed', output: '', exitCode: 1, lastSeq: 0, error } as const;
    await intruder.gw.ask({ t: 'result', ...ref(offer.assignment), ...result }, 'result_ack');
    const audit = JSON.stringify(await api('/v1/audit'));
    expect(audit).toContain(created.id);
    expect(audit).toContain('auth failed for sk-ant-[redacted]');
    expect(audit).not.toContain(key.slice(7));
  });
});

describe('dispatch', () => {
  it('never offers more than the gateway has slots for', async () => {
    const { agent, gw } = await connectedGateway(1);
    const first = await createAssignment(agent.name, 'first');
    const second = await createAssignment(agent.name, 'second');

    const offer = await gw.next('offer');
    expect(offer.assignment.id).toBe(first.id);
    await startOffer(gw, offer.assignment);
    await sleep(quietMs);
    expect(gw.count('offer')).toBe(0);
    expect((await getAssignment(second.id)).state).toBe('queued');

    await finishOffer(gw, offer.assignment, 'first done');
    const nextOffer = await gw.next('offer');
    expect(nextOffer).toMatchObject({ n: 2, assignment: { id: second.id, prompt: 'second' } });
  });

  it('puts a rejected offer back in the queue and frees the slot', async () => {
    const { agent, gw } = await connectedGateway(1);
    const rejected = await createAssignment(agent.name, 'not for me');
    const offer = await gw.next('offer');
    expect(offer.assignment.id).toBe(rejected.id);

    gw.send({ t: 'reject', ...ref(offer.assignment), reason: 'busy' });
    expect(await waitForState(rejected.id, 'queued')).toMatchObject({ gatewayId: null, attempt: 1 });

    // The slot is free again: a new assignment is offered (the rejected one is not, for a while).
    const fresh = await createAssignment(agent.name, 'take this one');
    expect((await gw.next('offer')).assignment.id).toBe(fresh.id);
    expect((await getAssignment(rejected.id)).state).toBe('queued');
  });

  it('frees a rejected slot once, however often the reject is repeated', async () => {
    const { agent, gw } = await connectedGateway(1);
    const rejected = await createAssignment(agent.name, 'not for me');
    const offer = await gw.next('offer');
    // A gateway may resend a frame it is not sure arrived: that must not count as another free slot.
    const reject = { t: 'reject', ...ref(offer.assignment), reason: 'busy' } as const;
    gw.send(reject);
    gw.send(reject);
    await sync(gw);
    expect((await getAssignment(rejected.id)).state).toBe('queued');

    const first = await createAssignment(agent.name, 'first');
    const second = await createAssignment(agent.name, 'second');
    expect((await gw.next('offer')).assignment.id).toBe(first.id);
    await sleep(quietMs);
    expect(gw.count('offer')).toBe(0);
    expect((await getAssignment(second.id)).state).toBe('queued');
  });

  it('puts an offer back in the queue when the gateway disconnects', async () => {
    const { agent, gw } = await connectedGateway(1);
    const created = await createAssignment(agent.name, 'orphan');
    expect((await gw.next('offer')).assignment.id).toBe(created.id);

    await gw.close();
    expect(await waitForState(created.id, 'queued')).toMatchObject({ gatewayId: null, attempt: 1 });
  });
});
