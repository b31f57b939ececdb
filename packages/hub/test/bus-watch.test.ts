/**
 * `watch`, the bus's one wait primitive: a change committed while `read` runs still wakes it (it
 * subscribes first), a burst of notices costs one more read, notices that do not match cost none,
 * the deadline and the signal end it with `undefined`, many waiters each get their own answer, and
 * every subscription is gone afterwards. Written once over `on`, it runs on any bus that has one.
 */
import { describe, expect, it } from 'vitest';
import { Bus, watchOn, type BusEvents } from '../src/bus.ts';

/** A bus that counts its live subscriptions, to prove `watch` leaves none behind. */
class CountingBus extends Bus {
  live = 0;
  override on<K extends keyof BusEvents>(topic: K, listener: (payload: BusEvents[K]) => void): () => void {
    this.live += 1;
    const off = super.on(topic, listener);
    return () => {
      this.live -= 1;
      off();
    };
  }
}

const mail = (recipientId: string) => ({ recipientId });

describe('watch', () => {
  it('reads at once and resolves with what is already there, without waiting for a notice', async () => {
    const bus = new CountingBus();
    const got = await bus.watch(
      'mailbox',
      () => true,
      async () => 'there',
      { deadline: Date.now() + 60_000 },
    );
    expect(got).toBe('there');
    expect(bus.live).toBe(0);
  });

  it('is woken by a change committed while its read runs (subscribed before reading)', async () => {
    const bus = new CountingBus();
    let stored: string | undefined;
    let reads = 0;
    const started = Date.now();
    const got = await bus.watch(
      'mailbox',
      ({ recipientId }) => recipientId === 'me',
      async () => {
        reads += 1;
        const seen = stored;
        if (reads === 1) {
          // The read has looked and found nothing; the write and its notice land before it returns.
          stored = 'hello';
          bus.emit('mailbox', mail('me'));
        }
        return seen;
      },
      { deadline: Date.now() + 10_000 },
    );
    expect(got).toBe('hello');
    expect(reads).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(bus.live).toBe(0);
  });

  it('reads once more for a burst of notices, and not at all for notices that do not match', async () => {
    const bus = new Bus();
    let reads = 0;
    let release: (() => void) | undefined;
    const watching = bus.watch(
      'mailbox',
      ({ recipientId }) => recipientId === 'me',
      async () => {
        reads += 1;
        if (reads === 1) await new Promise<void>((resolve) => (release = resolve));
        return reads === 2 ? 'done' : undefined;
      },
    );
    await until(() => release !== undefined);
    for (let i = 0; i < 100; i++) bus.emit('mailbox', mail('me'));
    for (let i = 0; i < 100; i++) bus.emit('mailbox', mail('someone else'));
    release?.();
    expect(await watching).toBe('done');
    expect(reads).toBe(2);
  });

  it('resolves undefined at its deadline after one read, never polling in between', async () => {
    const bus = new CountingBus();
    let reads = 0;
    const started = Date.now();
    const got = await bus.watch(
      'activity',
      () => true,
      async () => {
        reads += 1;
        return undefined;
      },
      { deadline: started + 150 },
    );
    expect(got).toBeUndefined();
    expect(reads).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(bus.live).toBe(0);
  });

  it('reads once for a deadline already past', async () => {
    const bus = new Bus();
    let reads = 0;
    const read = async () => {
      reads += 1;
      return reads > 1 ? 'late' : undefined;
    };
    expect(await bus.watch('mailbox', () => true, read, { deadline: Date.now() - 1 })).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('ends at once when its signal aborts, and never reads for a signal aborted before', async () => {
    const bus = new CountingBus();
    const controller = new AbortController();
    let reads = 0;
    const read = async () => {
      reads += 1;
      return undefined;
    };
    const watching = bus.watch('mailbox', () => true, read, { signal: controller.signal });
    await until(() => reads === 1);
    const started = Date.now();
    controller.abort();
    expect(await watching).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(bus.live).toBe(0);

    // A read may take something (an inbox claims its mail): none once the caller is gone.
    expect(await bus.watch('mailbox', () => true, read, { signal: controller.signal })).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('does not read after an abort that comes with a notice', async () => {
    const bus = new Bus();
    const controller = new AbortController();
    let reads = 0;
    const watching = bus.watch(
      'mailbox',
      () => true,
      async () => {
        reads += 1;
        return undefined;
      },
      { signal: controller.signal },
    );
    await until(() => reads === 1);
    bus.emit('mailbox', mail('me'));
    controller.abort();
    expect(await watching).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('answers many waiters on one topic, each with its own value', async () => {
    const bus = new CountingBus();
    const stored = new Map<string, number>();
    const waiters = Array.from({ length: 1000 }, (_, i) =>
      bus.watch(
        'mailbox',
        ({ recipientId }) => recipientId === `r${i}`,
        async () => stored.get(`r${i}`),
        { deadline: Date.now() + 60_000 },
      ),
    );
    await until(() => bus.live === 1000);
    for (let i = 999; i >= 0; i--) {
      stored.set(`r${i}`, i);
      bus.emit('mailbox', mail(`r${i}`));
    }
    expect(await Promise.all(waiters)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(bus.live).toBe(0);
  });

  it('passes an error of its read on, and unsubscribes', async () => {
    const bus = new CountingBus();
    await expect(
      bus.watch(
        'mailbox',
        () => true,
        () => Promise.reject(new Error('store down')),
      ),
    ).rejects.toThrow('store down');
    expect(bus.live).toBe(0);
  });

  it('works over any bus that has `on`', async () => {
    const listeners = new Set<(payload: BusEvents['assignment']) => void>();
    const tiny = {
      on: (_topic: 'assignment', listener: (payload: BusEvents['assignment']) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    } as unknown as Pick<Bus, 'on'>;
    let state = 'running';
    const watching = watchOn(
      tiny,
      'assignment',
      ({ assignmentId }) => assignmentId === 'asg_1',
      async () => (state === 'done' ? state : undefined),
    );
    await until(() => listeners.size === 1);
    state = 'done';
    for (const listener of listeners) listener({ assignmentId: 'asg_1' });
    expect(await watching).toBe('done');
    expect(listeners.size).toBe(0);
  });
});

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
