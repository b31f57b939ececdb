/**
 * A send hands its mail to an inbox wait parked on this hub, in the send's own transaction
 * (inbox-waits.ts), on SQLite and PostgreSQL: the wait answers with exactly what its own claim would
 * have taken, read-marked with its `message.read` entry, with no transaction of its own; what a send
 * claimed for a wait is answered even when the wait runs out of time meanwhile; a send that took a
 * wait and failed gives it back, and the wait takes the next mail itself. Real stores, no mocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageRead } from '@gantry/protocol';
import { Bus } from '../src/bus.ts';
import { Activity } from '../src/domain/activity.ts';
import type { Actor } from '../src/domain/actor.ts';
import { InboxWaits } from '../src/domain/inbox-waits.ts';
import { Mailbox } from '../src/domain/mailbox.ts';
import { Messages } from '../src/domain/messages.ts';
import { Presence } from '../src/domain/presence.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { backends, seed, type Provisioned } from './store-fixtures.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends) {
  describe(`inbox hand-off (${backend.kind})`, () => {
    let provisioned: Provisioned;
    let store: Store;
    let transactions = 0;
    let waits: InboxWaits;
    let messages: Messages;
    let mailbox: Mailbox;
    let activity: Activity;
    let person: Actor;
    let reader: Actor;

    beforeAll(async () => {
      provisioned = await backend.provision();
      store = await openStore(provisioned.location);
      // Counts the transactions the domain opens (each still runs as it would).
      const transaction = store.transaction.bind(store);
      store.transaction = (fn) => {
        transactions += 1;
        return transaction(fn);
      };
      const bus = new Bus();
      activity = new Activity(store, bus);
      waits = new InboxWaits(activity);
      messages = new Messages(store, bus, activity, waits);
      mailbox = new Mailbox(store, bus, messages, new Presence(), activity, waits);
      const s = await seed(store);
      person = { kind: 'user', id: s.user.id, name: s.user.handle, role: 'owner', workspaceId: s.ws.id };
      reader = { kind: 'agent', id: s.agent.id, name: s.agent.name, role: null, workspaceId: s.ws.id };
    });
    afterAll(async () => {
      await store?.close();
      await provisioned?.dispose();
    });

    /** Waits until `n` of the reader's waits have read once and are parked (a send may take them). */
    async function parked(n = 1): Promise<void> {
      for (let i = 0; i < 400 && waits.parkedFor(reader.id) < n; i++) await sleep(5);
      expect(waits.parkedFor(reader.id)).toBe(n);
    }

    it('a send claims for a parked wait in its own transaction; the wait answers with it, read', async () => {
      const waiting = mailbox.inbox(reader, { wait: 10_000, markRead: true });
      await parked();
      // Mail the wait has not been handed yet comes with the new message, oldest first.
      const before = transactions;
      const sent = await messages.send(person, { body: 'one', to: [reader.name] });
      const got = await waiting;
      expect(transactions - before).toBe(1); // the send's own: the wait opened none
      expect(got.timedOut).toBe(false);
      expect(got.messages.map((m) => [m.id, m.read])).toEqual([[sent.id, true]]);
      const [row] = await store.mailbox.list(reader.workspaceId, reader.id, { ids: [sent.id] });
      expect(row?.mail_read_at).not.toBeNull();
      const log = await activity.since(reader.workspaceId, 0, { types: [messageRead.type] });
      expect(log.at(-1)?.data).toMatchObject({ messageIds: [sent.id], reader: { id: reader.id } });
      // Handed out once: a later wait does not get it again.
      expect((await mailbox.inbox(reader, { wait: 50 })).timedOut).toBe(true);
    });

    it('what a send claimed for a wait is answered even if the wait ran out of time meanwhile', async () => {
      const waiting = mailbox.inbox(reader, { wait: 200, markRead: false });
      await parked();
      // A send takes the wait, and commits its claim only after the wait's time is up.
      const taken = waits.take([reader.id]);
      expect(taken).toHaveLength(1);
      await sleep(400);
      const sent = await messages.send(person, { body: 'late', to: [reader.name] }); // takes no wait
      await store.transaction((tx) => waits.claim(tx, taken, Date.now()));
      waits.settle(taken, true);
      const got = await waiting;
      expect(got.timedOut).toBe(false);
      expect(got.messages.map((m) => [m.id, m.read])).toEqual([[sent.id, false]]);
      expect((await mailbox.inbox(reader, { wait: 50 })).timedOut).toBe(true);
    });

    it('a wait a failed send took goes on and takes the next mail itself', async () => {
      const waiting = mailbox.inbox(reader, { wait: 10_000 });
      await parked();
      const taken = waits.take([reader.id]);
      expect(taken).toHaveLength(1);
      waits.settle(taken, false); // the send that took it failed: it claimed nothing
      const sent = await messages.send(person, { body: 'next', to: [reader.name] });
      const got = await waiting;
      expect(got.messages.map((m) => m.id)).toEqual([sent.id]);
      expect((await mailbox.inbox(reader, { wait: 50 })).timedOut).toBe(true);
    });

    it('two parked waits of one reader: each send hands its mail to one of them, none twice, none lost', async () => {
      const a = mailbox.inbox(reader, { wait: 10_000 });
      const b = mailbox.inbox(reader, { wait: 10_000 });
      await parked(2);
      const first = await messages.send(person, { body: 'first', to: [reader.name] });
      const second = await messages.send(person, { body: 'second', to: [reader.name] });
      const got = [...(await a).messages, ...(await b).messages].map((m) => m.id).sort();
      expect(got).toEqual([first.id, second.id].sort());
    });
  });
}
