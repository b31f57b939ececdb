// Several hubs, one system (issue 15): two real hubs (startHub, real sockets) on one fresh
// PostgreSQL database act as one through the database bus. Heartbeats and the dispatcher's catch-up
// read are 20 s apart here, so everything below that happens "at once" (well under a second) was
// carried by LISTEN/NOTIFY, not by a periodic read.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  approvalSchema,
  assignmentSchema,
  createdAgentSchema,
  type HubFrameOf,
} from '../../protocol/src/index.ts';
import { busApplication } from '../src/pg-bus.ts';
import type { RunningHub } from '../src/server.ts';
import { atOnceMs, postgresCluster } from './cluster-fixture.ts';

const cluster = postgresCluster('cl');
const { api, gatewayOn } = cluster;

const hubs = cluster.twoHubs();

/** Resolves once `on` sees the agent waiting on its inbox. */
async function waitingOn(on: RunningHub, agent: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const all = (await api(on, '/v1/agents/reachability')) as { agent: { name: string }; via: string[] }[];
    if (all.some((r) => r.agent.name === agent && r.via.includes('inbox'))) return;
    if (Date.now() > deadline) throw new Error(`${agent} is not waiting on its inbox`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const create = async (on: RunningHub, agent: string, prompt: string) =>
  assignmentSchema.parse(await api(on, '/v1/assignments', { agent, prompt }));

type Offer = HubFrameOf<'offer'>;
const answer = (offer: Offer) => ({
  assignmentId: offer.assignment.id,
  attempt: offer.assignment.attempt,
  offerId: offer.offerId,
});

describe('two hubs on one PostgreSQL', () => {
  it('report one hubId', async () => {
    const [ha, hb] = [
      (await api(hubs.a, '/v1/health')) as { hubId: string },
      (await api(hubs.b, '/v1/health')) as { hubId: string },
    ];
    expect(ha.hubId).toBe(hb.hubId);
  });

  it("offer work created on A to B's gateway at once, and a cancel through A reaches it", async () => {
    const { agent, gw } = await gatewayOn(hubs.b);
    const started = Date.now();
    const created = await create(hubs.a, agent.name, 'across hubs');
    const offer = await gw.next('offer', (f) => f.assignment.id === created.id, atOnceMs);
    expect(Date.now() - started).toBeLessThan(atOnceMs);
    await gw.ask({ t: 'accept', ...answer(offer) }, 'claimed');
    await gw.ask({ t: 'starting', ...answer(offer) }, 'start');
    gw.send({ t: 'running', assignmentId: created.id, attempt: offer.assignment.attempt });

    await api(hubs.a, `/v1/assignments/${created.id}/cancel`, {});
    const cancel = await gw.next('cancel', (f) => f.assignmentId === created.id, atOnceMs);
    expect(cancel).toMatchObject({ attempt: offer.assignment.attempt, reason: 'cancelled' });
  });

  it('shows a message posted through B on an activity stream on A', async () => {
    const controller = new AbortController();
    const res = await fetch(`${hubs.a.url}/v1/events`, {
      headers: { authorization: `Bearer ${cluster.owner()}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const read = async (until: (t: string) => boolean) => {
      const decoder = new TextDecoder();
      while (!until(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(value);
      }
    };
    await read((t) => t.includes('event: ready'));
    const posted = Date.now();
    const message = (await api(hubs.b, '/v1/messages', { body: 'posted through B' })) as { id: string };
    await read((t) => t.includes(message.id));
    expect(Date.now() - posted).toBeLessThan(atOnceMs);
    controller.abort();
  });

  it('shows an inbox wait on B in reachability on A, and wakes it for mail sent through A', async () => {
    const agent = createdAgentSchema.parse(await api(hubs.a, '/v1/agents', { name: 'cl-inbox' }));
    const waiting = api(hubs.b, '/v1/inbox?wait=20000', undefined, agent.key);
    await waitingOn(hubs.b, 'cl-inbox'); // the wait is open on B before the mail is sent
    // Presence travels too: A's reachability sees the wait held on B.
    await waitingOn(hubs.a, 'cl-inbox');
    const sent = Date.now();
    await api(hubs.a, '/v1/messages', { to: ['cl-inbox'], body: 'through A' });
    const inbox = (await waiting) as { messages: { body: string }[] };
    expect(Date.now() - sent).toBeLessThan(atOnceMs);
    expect(JSON.stringify(inbox)).toContain('through A');
  });

  it('closes a gateway socket on B when its token is revoked through A', async () => {
    const { gw, gatewayId } = await gatewayOn(hubs.b);
    const tokens = (await api(hubs.a, '/v1/tokens')) as { id: string; kind: string; ownerId: string }[];
    const token = tokens.find((t) => t.kind === 'gateway' && t.ownerId === gatewayId);
    expect(token).toBeDefined();
    const revoked = Date.now();
    await api(hubs.a, `/v1/tokens/${token?.id}/revoke`, {});
    await gw.closed;
    // The periodic re-read is 5 s away: only the bus closes it this soon.
    expect(Date.now() - revoked).toBeLessThan(atOnceMs);
  });

  it("hands a decision made through A to a run on B's gateway that asked for approval", async () => {
    const { agent, gw } = await gatewayOn(hubs.b);
    const created = await create(hubs.a, agent.name, 'needs a tool');
    const offer = await gw.next('offer', (f) => f.assignment.id === created.id, atOnceMs);
    const ref = { assignmentId: created.id, attempt: offer.assignment.attempt };
    await gw.ask({ t: 'accept', ...answer(offer) }, 'claimed');
    await gw.ask({ t: 'starting', ...answer(offer) }, 'start');
    gw.send({ t: 'running', ...ref });
    // The run asks through B (its gateway's hub) to run a tool.
    const data = { requestId: 'req-cross', tool: 'Bash', input: 'rm -rf build' };
    const event = { type: 'permission_requested', data, seq: 1, ts: new Date().toISOString() };
    await gw.ask({ t: 'events', ...ref, events: [event] }, 'events_ack');
    // A person sees it and decides through A.
    const pending = approvalSchema.array().parse(await api(hubs.a, '/v1/approvals'));
    const approval = pending.find((p) => p.assignmentId === created.id);
    expect(approval).toMatchObject({ kind: 'tool_permission', status: 'pending' });
    const decided = Date.now();
    await api(hubs.a, `/v1/approvals/${approval?.id}/approve`, {});
    const frame = await gw.next('permission', (f) => f.approvalId === approval?.id, atOnceMs);
    expect(Date.now() - decided).toBeLessThan(atOnceMs);
    expect(frame).toMatchObject({ ...ref, requestId: 'req-cross', decision: 'approved' });
  });

  it("tells B's gateway when its agent is removed through A", async () => {
    const { agent, gw } = await gatewayOn(hubs.b);
    const removed = (await fetch(`${hubs.a.url}/v1/agents/${agent.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${cluster.owner()}` },
    }).then((r) => r.json())) as { detachedFrom: { id: string; told: boolean }[] };
    expect(removed.detachedFrom).toEqual([expect.objectContaining({ told: true })]);
    expect(await gw.next('detach', (f) => f.agentId === agent.id, atOnceMs)).toMatchObject({
      agentId: agent.id,
    });
  });

  it("catches up after B's listening connection is cut: work queued meanwhile is offered", async () => {
    const { agent, gw } = await gatewayOn(hubs.b);
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      // B started last: its listening connection is the newest of the two.
      const { rows } = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where datname = $1 and application_name = $2
         order by backend_start desc limit 1`,
        [cluster.database, busApplication],
      );
      await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
    } finally {
      await admin.end();
    }
    // Created while B hears nothing: its notice is lost for B, whose catch-up offers it.
    const created = await create(hubs.a, agent.name, 'during the gap');
    const offer = await gw.next('offer', (f) => f.assignment.id === created.id, 5_000);
    expect(offer.assignment.prompt).toBe('during the gap');
  });
});
