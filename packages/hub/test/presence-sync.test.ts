// Inbox presence shared between the hubs of one system (issue 15): a wait open on one hub counts
// on the other, ends there when it ends, and stops counting once its hub stops re-telling it.
import { describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { Presence } from '../src/domain/presence.ts';
import { sharePresence } from '../src/domain/presence-sync.ts';

describe('sharePresence', () => {
  it("counts another hub's open waits, their end, and forgets a hub that went quiet", () => {
    let now = 1_000;
    const clock = () => now;
    const bus = new Bus(); // both "hubs" on one bus, told apart by node
    const a = new Presence(clock, 300);
    const b = new Presence(clock, 300);
    const stopA = sharePresence(a, bus, 'node-a', 100);
    const stopB = sharePresence(b, bus, 'node-b', 100);

    const leave = b.enterWait('agt_1');
    expect(a.waiting('agt_1')).toBe(true);
    expect(a.waits('agt_1')).toBe(1);
    expect(a.lastInboxAt('agt_1')).toBe(1_000);
    expect(b.waits('agt_1')).toBe(1); // its own, not counted twice
    now = 1_050;
    leave();
    expect(a.waiting('agt_1')).toBe(false);
    expect(a.lastInboxAt('agt_1')).toBe(1_050);

    b.enterWait('agt_2');
    expect(a.waiting('agt_2')).toBe(true);
    stopB(); // hub B goes quiet: no more reports
    now += 301;
    expect(a.waiting('agt_2')).toBe(false);
    stopA();
  });
});
