/**
 * The assignment lifecycle tells the gateway itself (issue 11, cut 2): every step that takes an
 * attempt from its gateway sends `cancel` or `revoke` through one port, recorded here, so no caller
 * (route, sweeper, work dispatcher, agent removal) has to. Real SQLite store, no transport.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type HubFrame } from '@gantry/protocol';
import { Bus } from '../src/bus.ts';
import { LeaseSweeper } from '../src/dispatch/lease-sweeper.ts';
import { Activity } from '../src/domain/activity.ts';
import type { Actor } from '../src/domain/actor.ts';
import { Assignments } from '../src/domain/assignments.ts';
import type { GatewayPort } from '../src/domain/gateway-port.ts';
import { openStore } from '../src/store/open.ts';
import type { AssignmentRow, Store } from '../src/store/store.ts';

/** A port that keeps what the lifecycle sent, by gateway. */
class RecordingPort implements GatewayPort {
  sent: { gatewayId: string; frame: HubFrame }[] = [];
  send(gatewayId: string, frame: HubFrame): void {
    this.sent.push({ gatewayId, frame });
  }
}

const settings = { leaseMs: 1_000, heartbeatMs: 500, graceMs: 2_000, queueTtlMs: 60_000 };

let dir: string;
let store: Store;
let port: RecordingPort;
let assignments: Assignments;
let sweeper: LeaseSweeper;
/** The domain takes whom it acts for, with no credential. */
let owner: Actor;
let agentId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-lifecycle-'));
  store = await openStore(join(dir, 'hub.db'));
  const ws = await store.users.createWorkspace('lifecycle');
  const user = await store.users.create(ws.id, 'ada', 'owner');
  agentId = (await store.agents.create(ws.id, 'coder', 'managed')).id;
  owner = { kind: 'user', id: user.id, name: 'ada', role: 'owner', workspaceId: ws.id };
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  port = new RecordingPort();
  const bus = new Bus();
  assignments = new Assignments(store, bus, port, new Activity(store, bus));
  sweeper = new LeaseSweeper(store, assignments, settings, silentLogger);
});

const create = (retries = 0) => assignments.create(owner, { agent: agentId, prompt: 'fix it', retries });

/** Offers a new assignment to `gatewayId`, then moves it on to `state`. */
async function held(gatewayId: string, state: 'offered' | 'running', retries = 0): Promise<AssignmentRow> {
  const row = await create(retries);
  const offerId = await assignments.offer(row, gatewayId, Date.now() + settings.leaseMs);
  expect(offerId).toBeDefined();
  if (state === 'running') {
    expect(await assignments.claim(row.id, 1, gatewayId, offerId, Date.now() + settings.leaseMs)).toBe(true);
    expect(await assignments.starting(row.id, 1, gatewayId, offerId)).toMatchObject({ state: 'starting' });
    await assignments.running(row.id, 1, gatewayId);
  }
  return (await store.assignments.get(row.id)) as AssignmentRow;
}

describe('cancel', () => {
  it('of an offered assignment ends it cancelled and revokes the offer at its gateway', async () => {
    const row = await held('gw_offered', 'offered');
    const ended = await assignments.cancel(owner, row.id);
    expect(ended.state).toBe('cancelled');
    expect(port.sent).toEqual([
      {
        gatewayId: 'gw_offered',
        frame: { t: 'revoke', assignmentId: row.id, attempt: 1, reason: 'cancelled' },
      },
    ]);
  });

  it('of a running assignment makes it cancelling and tells its gateway to cancel the run', async () => {
    const row = await held('gw_running', 'running');
    const cancelling = await assignments.cancel(owner, row.id);
    expect(cancelling.state).toBe('cancelling');
    expect(port.sent).toEqual([
      {
        gatewayId: 'gw_running',
        frame: { t: 'cancel', assignmentId: row.id, attempt: 1, reason: 'cancelled' },
      },
    ]);
    // Asked again while cancelling: nothing more to tell.
    await assignments.cancel(owner, row.id);
    expect(port.sent).toHaveLength(1);
  });

  it('of a queued assignment tells nobody: no gateway has it', async () => {
    const row = await create();
    expect((await assignments.cancel(owner, row.id)).state).toBe('cancelled');
    expect(port.sent).toEqual([]);
  });
});

describe('lose', () => {
  it('with the hub’s reason revokes the attempt at its gateway, and retries it', async () => {
    const row = await held('gw_lost', 'running', 1);
    expect(await assignments.lose(row, 'no word for 3s', 'lease expired')).toBe('requeued');
    expect(port.sent).toEqual([
      {
        gatewayId: 'gw_lost',
        frame: { t: 'revoke', assignmentId: row.id, attempt: 1, reason: 'lease expired' },
      },
    ]);
    expect(await store.assignments.get(row.id)).toMatchObject({ state: 'queued', attempt: 2 });
  });

  it('on the gateway’s own word (it has no such run) sends nothing back', async () => {
    const row = await held('gw_said', 'running');
    expect(await assignments.lose(row, 'the gateway reconnected without it')).toBe('failed');
    expect(port.sent).toEqual([]);
  });

  it('of an attempt that moved on meanwhile sends nothing', async () => {
    const row = await held('gw_moved', 'running');
    await assignments.cancel(owner, row.id);
    port.sent = [];
    // The row read before the cancel is stale: its `running` state no longer holds.
    expect(await assignments.lose(row, 'late', 'lease expired')).toBe('moved');
    expect(port.sent).toEqual([]);
  });
});

describe('requeue', () => {
  it('of a lapsed offer revokes that offer by name', async () => {
    const row = await held('gw_lapsed', 'offered');
    const offerId = row.offer_id ?? '';
    expect(await assignments.requeue(row.id, 1, undefined, offerId, 'offer lapsed')).toBe(true);
    expect(port.sent).toEqual([
      {
        gatewayId: 'gw_lapsed',
        frame: { t: 'revoke', assignmentId: row.id, attempt: 1, offerId, reason: 'offer lapsed' },
      },
    ]);
  });

  it('the gateway asked for (a reject) sends nothing back', async () => {
    const row = await held('gw_reject', 'offered');
    expect(await assignments.requeue(row.id, 1, 'gw_reject', row.offer_id ?? undefined)).toBe(true);
    expect(port.sent).toEqual([]);
  });
});

describe('the lease sweeper', () => {
  it('sends through the lifecycle: a lapsed offer is revoked by name, a silent run past grace revoked', async () => {
    const offered = await held('gw_sweep_offer', 'offered');
    const running = await held('gw_sweep_run', 'running', 1);
    const now = Date.now() + settings.leaseMs + settings.graceMs + 1;
    await sweeper.sweep(now);
    const mine = port.sent.filter((s) =>
      [offered.id, running.id].includes(s.frame.t === 'revoke' ? s.frame.assignmentId : ''),
    );
    expect(mine).toEqual([
      {
        gatewayId: 'gw_sweep_offer',
        frame: {
          t: 'revoke',
          assignmentId: offered.id,
          attempt: 1,
          offerId: offered.offer_id,
          reason: 'offer lapsed',
        },
      },
      {
        gatewayId: 'gw_sweep_run',
        frame: { t: 'revoke', assignmentId: running.id, attempt: 1, reason: 'lease expired' },
      },
    ]);
  });

  it('expires an assignment left in the queue past its TTL and tells no gateway', async () => {
    const row = await create();
    port.sent = [];
    await sweeper.sweep(Date.now() + settings.queueTtlMs + 1);
    expect(await store.assignments.get(row.id)).toMatchObject({ state: 'expired' });
    expect(port.sent.filter((s) => 'assignmentId' in s.frame && s.frame.assignmentId === row.id)).toEqual([]);
  });
});
