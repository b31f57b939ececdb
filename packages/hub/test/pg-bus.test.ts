// The PostgreSQL bus (issue 15): two buses on one fresh database act as one in-process bus — a
// notice reaches the other bus and its own listeners exactly once, a burst is packed into few
// NOTIFYs under the payload limit, big id lists are split, and a cut connection comes back and
// tells gap listeners (and open watches) to read again.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@gantry/protocol';
import type { BusEvents } from '../src/bus.ts';
import { pack, payloadLimit, PgBus, split } from '../src/pg-bus.ts';
import { postgresAdmin, postgresServer } from '../../../test/postgres-admin.ts';

const database = `gantry_bus_${randomBytes(6).toString('hex')}`;
const url = `${postgresServer}/${database}`;

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('PgBus', () => {
  const buses: PgBus[] = [];
  const open = async () => {
    const bus = new PgBus({ url, log: silentLogger, retryMs: 20 });
    await bus.start();
    buses.push(bus);
    return bus;
  };

  beforeAll(() => postgresAdmin(`CREATE DATABASE "${database}"`));
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    await postgresAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('delivers a notice to every bus, and once to its own listeners', async () => {
    const [a, b] = [await open(), await open()];
    const onA: BusEvents['mailbox'][] = [];
    const onB: BusEvents['mailbox'][] = [];
    a.on('mailbox', (p) => onA.push(p));
    b.on('mailbox', (p) => onB.push(p));
    a.emit('mailbox', { recipientId: 'agt_1' });
    expect(onA).toEqual([{ recipientId: 'agt_1' }]); // at once, synchronously
    await until(() => onB.length === 1);
    b.emit('mailbox', { recipientId: 'agt_2' });
    await until(() => onA.length === 2);
    // Give a stray echo time to arrive: none does.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(onA).toEqual([{ recipientId: 'agt_1' }, { recipientId: 'agt_2' }]);
    expect(onB).toEqual([{ recipientId: 'agt_1' }, { recipientId: 'agt_2' }]);
  });

  it('coalesces a burst and packs it into few NOTIFYs', async () => {
    const [a, b] = [await open(), await open()];
    const seen = new Set<string>();
    let heard = 0;
    b.on('queued', ({ assignmentId }) => {
      heard += 1;
      seen.add(assignmentId);
    });
    const before = a.notifies;
    for (let i = 0; i < 500; i++) a.emit('queued', { assignmentId: `asg_${i}`, agentId: 'agt_x' });
    for (let i = 0; i < 500; i++) a.emit('queued', { assignmentId: `asg_${i}`, agentId: 'agt_x' });
    await until(() => seen.size === 500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard).toBe(500); // the repeats of one tick went out once
    const sent = a.notifies - before;
    expect(sent).toBeGreaterThan(1);
    expect(sent).toBeLessThan(20);
  });

  it('sends one NOTIFY at a time: notices emitted while one is on its way follow it, and pg is never asked two queries at once', async () => {
    const [a, b] = [await open(), await open()];
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const heard: string[] = [];
      b.on('queued', ({ assignmentId }) => heard.push(assignmentId));
      // One notice a turn, each flushed while the one before is still on its way.
      for (let i = 0; i < 50; i++) {
        a.emit('queued', { assignmentId: `asg_${i}`, agentId: 'agt_x' });
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until(() => heard.length === 50);
      expect(new Set(heard).size).toBe(50);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('splits a revocation of many tokens across NOTIFYs, losing none', async () => {
    const [a, b] = [await open(), await open()];
    const tokenIds = Array.from({ length: 2_000 }, (_, i) => `tok_${String(i).padStart(20, '0')}`);
    const got = new Set<string>();
    b.on('revoked', ({ tokenIds: ids }) => ids.forEach((id) => got.add(id)));
    a.emit('revoked', { tokenIds });
    await until(() => got.size === tokenIds.length);
    for (const batch of pack(
      'n',
      split(['revoked', { tokenIds }]).map((e) => JSON.stringify(e)),
    )) {
      expect(Buffer.byteLength(batch.payload)).toBeLessThanOrEqual(payloadLimit);
    }
  });

  it('reconnects after its connection is terminated and tells gap listeners and watches', async () => {
    const [a, b] = [await open(), await open()];
    let gaps = 0;
    b.onGap(() => (gaps += 1));
    let reads = 0;
    const store: { value?: string } = {};
    const watching = b.watch(
      'mailbox',
      () => false, // no notice ever matches: only the gap makes it read again
      async () => {
        reads += 1;
        return store.value;
      },
    );
    await until(() => reads === 1);
    const pid = await b.listenerPid();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    store.value = 'changed while cut';
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();
    await until(() => gaps === 1);
    expect(await watching).toBe('changed while cut');
    expect(b.connects).toBe(2);
    // And it hears again after the gap.
    const heard: string[] = [];
    b.on('mailbox', ({ recipientId }) => heard.push(recipientId));
    a.emit('mailbox', { recipientId: 'after' });
    await until(() => heard.length === 1);
  });

  it('sends notices emitted while cut once it is back', async () => {
    const [a, b] = [await open(), await open()];
    const heard: string[] = [];
    b.on('mailbox', ({ recipientId }) => heard.push(recipientId));
    const pid = await a.listenerPid();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();
    a.emit('mailbox', { recipientId: 'while cut' });
    await until(() => heard.includes('while cut'));
  });

  it('refuses to start without a database', async () => {
    const bus = new PgBus({
      url: `${postgresServer}/no_such_db_${randomBytes(4).toString('hex')}`,
      log: silentLogger,
    });
    await expect(bus.start()).rejects.toThrow(/cannot listen on PostgreSQL/);
    await bus.close();
  });
});
