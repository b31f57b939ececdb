/**
 * Offer fencing (issue 10, item 11) against a real hub with short leases, the test playing the
 * gateway: every offer has its own id; an answer to an offer that lapsed is ignored, never turned
 * into a revoke of the attempt the gateway holds under a later offer; a run the gateway stopped
 * without a person's cancel ends `lost` (retried under `retries`), never `cancelled`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assignmentSchema,
  createdAgentSchema,
  gatewayConnectResultSchema,
  type Assignment,
  type AssignmentState,
  type HubFrameOf,
} from '../../protocol/src/index.ts';
import { closeGateways, FakeGateway } from './fake-gateway.ts';
import { startTempHub, type TempHub } from './temp-hub.ts';

/** Offers lapse after a second; started attempts are given up a second after that. */
const settings = { leaseMs: 1000, graceMs: 1000, heartbeatMs: 200 };
let temp: TempHub;

beforeAll(async () => {
  temp = await startTempHub('gantry-fencing-', settings);
});
afterAll(() => temp?.stop());
afterEach(() => closeGateways());

async function api(path: string, init: { token?: string; json?: unknown } = {}): Promise<unknown> {
  const res = await fetch(`${temp.hub.url}${path}`, {
    method: init.json === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${init.token ?? temp.ownerToken}`,
      ...(init.json === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  const body: unknown = await res.json();
  expect(res.ok, `${path}: ${res.status} ${JSON.stringify(body)}`).toBe(true);
  return body;
}

const getAssignment = async (id: string) => assignmentSchema.parse(await api(`/v1/assignments/${id}`));

async function waitFor(id: string, done: (a: Assignment) => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const assignment = await getAssignment(id);
    if (done(assignment)) return assignment;
    if (Date.now() > deadline) throw new Error(`assignment ${id} is still ${assignment.state}`);
    await sleep(25);
  }
}
const waitForState = (id: string, state: AssignmentState) => waitFor(id, (a) => a.state === state);

let count = 0;

/** A registered gateway past `hello`, serving one agent with `slots` slots. */
async function connectedGateway(slots: number) {
  count += 1;
  const agent = createdAgentSchema.parse(await api('/v1/agents', { json: { name: `fence-${count}` } }));
  const connect = gatewayConnectResultSchema.parse(
    await api('/v1/gateways/connect', {
      token: agent.key,
      json: { name: `fence-gw-${count}`, provider: 'echo' },
    }),
  );
  const gw = await FakeGateway.open(temp.hub.url);
  await gw.next('welcome');
  const helloOk = await gw.ask(
    {
      t: 'hello',
      token: connect.gatewayToken ?? '',
      version: 'test',
      slots,
      agents: [{ agentId: agent.id, provider: 'echo', slots }],
      held: [],
    },
    'hello_ok',
  );
  return { agent, gw, helloOk };
}

const create = async (agent: string, prompt: string, retries = 0) =>
  assignmentSchema.parse(await api('/v1/assignments', { json: { agent, prompt, retries } }));

type Offer = HubFrameOf<'offer'>;
const ref = (offer: Offer) => ({ assignmentId: offer.assignment.id, attempt: offer.assignment.attempt });
const answer = (offer: Offer) => ({ ...ref(offer), offerId: offer.offerId });

/** Two offers of the same attempt to the same gateway: the first lapsed (and was revoked by name). */
async function reoffered(gw: FakeGateway, agent: string) {
  const created = await create(agent, 'offered twice');
  const first = await gw.next('offer');
  const lapsed = await gw.next('revoke', (f) => f.assignmentId === created.id, 5_000);
  const second = await gw.next('offer', (f) => f.assignment.id === created.id, 5_000);
  return { created, first, lapsed, second };
}

describe('offers', () => {
  it('each carry their own id, and hello_ok tells the gateway its grace', async () => {
    const { agent, gw, helloOk } = await connectedGateway(2);
    expect(helloOk).toMatchObject({ leaseMs: 1000, graceMs: 1000 });
    const { first, lapsed, second } = await reoffered(gw, agent.name);
    expect(second.assignment.attempt).toBe(first.assignment.attempt);
    expect(first.offerId).toMatch(/^off_/);
    expect(second.offerId).toMatch(/^off_/);
    expect(second.offerId).not.toBe(first.offerId);
    // The lapse withdraws that one offer by name, so it cannot touch a later one.
    expect(lapsed).toMatchObject({ ...ref(first), offerId: first.offerId, reason: 'offer lapsed' });
  });
});

describe('a stale answer after a re-offer', () => {
  it('is ignored: nothing is revoked and the current offer claims, starts and finishes', async () => {
    const { agent, gw } = await connectedGateway(2);
    const { created, first, second } = await reoffered(gw, agent.name);

    // A gateway that wakes after a freeze answers every offer it finds, the lapsed one first.
    gw.send({ t: 'accept', ...answer(first) });
    gw.send({ t: 'starting', ...answer(first) });
    gw.send({ t: 'accept', ...answer(second) });
    gw.send({ t: 'starting', ...answer(second) });
    expect(await gw.next('claimed')).toEqual({ t: 'claimed', ...answer(second) });
    expect(await gw.next('start')).toEqual({
      t: 'start',
      ...answer(second),
      runToken: expect.stringMatching(/^gnt_r_/),
    });
    gw.send({ t: 'running', ...ref(second) });
    await waitForState(created.id, 'running');
    await sleep(300);
    expect(gw.count('revoke')).toBe(0);
    expect(gw.count('start')).toBe(0);

    const result = { status: 'succeeded', output: 'done once', exitCode: 0, lastSeq: 0 } as const;
    await gw.ask({ t: 'result', ...ref(second), ...result }, 'result_ack');
    expect(await getAssignment(created.id)).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      result: { output: 'done once' },
    });
  });

  it('a reject of the lapsed offer leaves the current offer standing', async () => {
    const { agent, gw, helloOk } = await connectedGateway(2);
    const { created, first, second } = await reoffered(gw, agent.name);
    gw.send({ t: 'reject', ...answer(first), reason: 'no free slot' });
    expect(await gw.ask({ t: 'accept', ...answer(second) }, 'claimed')).toMatchObject(answer(second));
    expect(await getAssignment(created.id)).toMatchObject({ state: 'offered', gatewayId: helloOk.gatewayId });
  });

  it('a starting for an offer this gateway no longer holds is withdrawn by that offer id', async () => {
    const { agent, gw } = await connectedGateway(1);
    const created = await create(agent.name, 'lapses');
    const offer = await gw.next('offer');
    await gw.next('revoke', (f) => f.assignmentId === created.id);
    await waitForState(created.id, 'queued');
    // The slot is still counted until a heartbeat: the attempt is not offered again meanwhile.
    const revoke = await gw.ask({ t: 'starting', ...answer(offer) }, 'revoke');
    expect(revoke).toMatchObject({ ...answer(offer) });
  });
});

describe('a run stopped without a person asking', () => {
  async function running(retries: number) {
    const { agent, gw } = await connectedGateway(1);
    const created = await create(agent.name, 'runs', retries);
    const offer = await gw.next('offer');
    await gw.ask({ t: 'accept', ...answer(offer) }, 'claimed');
    await gw.ask({ t: 'starting', ...answer(offer) }, 'start');
    gw.send({ t: 'running', ...ref(offer) });
    await waitForState(created.id, 'running');
    return { gw, created, offer };
  }
  const stopped = { output: '', exitCode: null, lastSeq: 0 };

  it('reported cancelled (an older gateway answering a revoke) is lost and retried, not cancelled', async () => {
    const { gw, created, offer } = await running(1);
    const error = { code: 'cancelled', message: 'cancelled; the process group was stopped' } as const;
    await gw.ask({ t: 'result', ...ref(offer), status: 'cancelled', error, ...stopped }, 'result_ack');
    // Attempt 2 is queued, and offered again at once: the result freed the slot.
    expect(await getAssignment(created.id)).toMatchObject({ attempt: 2, error: null });
    expect((await gw.next('offer')).assignment).toMatchObject({ id: created.id, attempt: 2 });
  });

  it('reported lost after a revoke fails gateway_lost when no retry is left', async () => {
    const { gw, created, offer } = await running(0);
    const error = { code: 'revoked', message: 'the hub revoked this attempt' } as const;
    await gw.ask({ t: 'result', ...ref(offer), status: 'lost', error, ...stopped }, 'result_ack');
    expect(await getAssignment(created.id)).toMatchObject({
      state: 'failed',
      error: { code: 'gateway_lost' },
    });
  });

  it('ends cancelled when a person cancelled it', async () => {
    const { gw, created, offer } = await running(1);
    await api(`/v1/assignments/${created.id}/cancel`, { json: {} });
    expect(await gw.next('cancel')).toMatchObject(ref(offer));
    const error = { code: 'cancelled', message: 'cancelled; the process group was stopped' } as const;
    await gw.ask({ t: 'result', ...ref(offer), status: 'cancelled', error, ...stopped }, 'result_ack');
    expect(await getAssignment(created.id)).toMatchObject({ state: 'cancelled', attempt: 1 });
  });
});

describe('a person’s cancel over REST', () => {
  /** Every frame the hub sent before this round trip has arrived: frames are handled in order. */
  async function settled(gw: FakeGateway) {
    const probe = { assignmentId: `asg_probe_${count}`, attempt: 1 };
    await gw.ask({ t: 'starting', ...probe }, 'revoke', (f) => f.assignmentId === probe.assignmentId);
  }

  it('revokes an offered attempt at its gateway once', async () => {
    const { agent, gw } = await connectedGateway(1);
    const created = await create(agent.name, 'offered only');
    const offer = await gw.next('offer');
    await api(`/v1/assignments/${created.id}/cancel`, { json: {} });
    expect(await gw.next('revoke', (f) => f.assignmentId === created.id)).toMatchObject({
      ...ref(offer),
      reason: 'cancelled',
    });
    await settled(gw);
    expect(gw.count('revoke')).toBe(0);
    expect(await getAssignment(created.id)).toMatchObject({ state: 'cancelled' });
  });

  it('tells the gateway running the attempt to cancel it once', async () => {
    const { agent, gw } = await connectedGateway(1);
    const created = await create(agent.name, 'runs until cancelled');
    const offer = await gw.next('offer');
    await gw.ask({ t: 'accept', ...answer(offer) }, 'claimed');
    await gw.ask({ t: 'starting', ...answer(offer) }, 'start');
    gw.send({ t: 'running', ...ref(offer) });
    await waitForState(created.id, 'running');
    await api(`/v1/assignments/${created.id}/cancel`, { json: {} });
    expect(await gw.next('cancel')).toMatchObject({ ...ref(offer), reason: 'cancelled' });
    await settled(gw);
    expect(gw.count('cancel') + gw.count('revoke')).toBe(0);
  });
});
