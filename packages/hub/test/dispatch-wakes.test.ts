/**
 * The dispatcher's wake rules (issue 15): a pass visits only gateways serving agents with queued
 * work, woken when work is queued or capacity frees up; a heartbeat that changes nothing runs no
 * query; a paused agent's queue costs nothing until it is resumed; work queued where no notice
 * reached this hub is found by the catch-up read within an interval. Real gateway sessions (the
 * hub's frame handling on a fake socket) on an in-process hub with real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api as apiOf, servedGateway, until } from './served-gateways.ts';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

const heartbeatMs = 300;
let temp: InProcessHub;

beforeAll(async () => {
  temp = await createTempHub('gantry-wakes-', { settings: { heartbeatMs } });
});
afterAll(() => temp?.stop());

const api = (path: string, json?: unknown) => apiOf(temp, path, json);
const gateway = (slots = 1) => servedGateway(temp, slots);

async function assign(agent: string): Promise<string> {
  return ((await api('/v1/assignments', { agent, prompt: 'x' })) as { id: string }).id;
}

const dispatcher = () => temp.hub.ctx.dispatcher;
const settled = () => dispatcher().idle();

describe('the dispatcher', () => {
  it('offers queued work at once, querying only for the gateway that serves the agent', async () => {
    const idle = await Promise.all(Array.from({ length: 20 }, () => gateway()));
    const busy = await gateway();
    await settled();
    const before = dispatcher().queries;
    const id = await assign(busy.agent.name);
    const offer = await until('the offer', () => busy.socket.offers()[0]);
    expect(offer.assignment.id).toBe(id);
    await settled();
    expect(dispatcher().queries - before).toBe(1);
    for (const g of idle) expect(g.socket.offers()).toEqual([]);
  });

  it('runs no query for heartbeats that change nothing', async () => {
    const fleet = await Promise.all(Array.from({ length: 10 }, () => gateway()));
    await settled();
    const before = dispatcher().queries;
    for (let round = 0; round < 3; round++) for (const g of fleet) await g.heartbeat(1);
    await settled();
    expect(dispatcher().queries).toBe(before);
  });

  it('offers waiting work as soon as a heartbeat reports a freed slot', async () => {
    const g = await gateway(1);
    const first = await assign(g.agent.name);
    const second = await assign(g.agent.name);
    await until('the first offer', () => g.socket.offers()[0]);
    await settled();
    expect(g.socket.offers().map((o) => o.assignment.id)).toEqual([first]);
    // The first is running and the gateway reports room for one more.
    await g.heartbeat(1);
    const next = await until('the second offer', () => g.socket.offers()[1]);
    expect(next.assignment.id).toBe(second);
  });

  it("costs nothing for a paused agent's queue until it is resumed, then offers it", async () => {
    const g = await gateway(1);
    await api(`/v1/agents/${g.agent.name}/pause`, {});
    const id = await assign(g.agent.name);
    await settled();
    const before = dispatcher().queries;
    for (let round = 0; round < 3; round++) await g.heartbeat(1);
    await settled();
    expect(dispatcher().queries).toBe(before);
    expect(g.socket.offers()).toEqual([]);
    await api(`/v1/agents/${g.agent.name}/resume`, {});
    const offer = await until('the offer after resume', () => g.socket.offers()[0]);
    expect(offer.assignment.id).toBe(id);
  });

  it('finds work queued with no notice to this hub (another hub on the same store) within an interval', async () => {
    const g = await gateway(1);
    await settled();
    // Written to the store directly, as another hub would: no notice on this hub's bus.
    const row = await temp.hub.ctx.store.assignments.create({
      workspaceId: g.agent.workspaceId,
      agentId: g.agent.id,
      prompt: 'x',
      sessionKey: 'k',
      mode: 'new',
      resumeFallback: 'new',
      timeoutMs: 60_000,
      retries: 0,
      createdBy: 'test',
    });
    const started = Date.now();
    const offer = await until('the offer', () => g.socket.offers()[0], 3 * heartbeatMs + 2_000);
    expect(offer.assignment.id).toBe(row.id);
    expect(Date.now() - started).toBeLessThan(heartbeatMs + 1_000);
  });

  it('offers a rejected assignment to the same gateway again once the cooldown is over, unprompted', async () => {
    const g = await gateway(1);
    const id = await assign(g.agent.name);
    const offer = await until('the offer', () => g.socket.offers()[0]);
    await g.receive({
      t: 'reject',
      assignmentId: id,
      attempt: offer.assignment.attempt,
      offerId: offer.offerId,
      reason: 'busy',
    });
    await settled();
    expect(g.socket.offers()).toHaveLength(1);
    const again = await until('the offer after the cooldown', () => g.socket.offers()[1], 8_000);
    expect(again.assignment.id).toBe(id);
  }, 15_000);
});
