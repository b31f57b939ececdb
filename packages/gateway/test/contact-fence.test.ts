// Proves when a gateway counts itself cut off from its hub: past lease + grace of wall-clock silence
// (the hub's grace, or the default when an older hub does not say), judged before a new contact
// counts, once per silence; and that a quiet hub is noticed by the timer alone.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ContactFence, defaultGraceMs } from '../src/contact-fence.ts';

const fences: ContactFence[] = [];
afterEach(() => fences.splice(0).forEach((fence) => fence.stop()));

function fence() {
  const cutOffs: number[] = [];
  const made = new ContactFence((silentMs) => cutOffs.push(silentMs));
  fences.push(made);
  return { fence: made, cutOffs };
}

describe('the contact fence', () => {
  it('cuts off once silence passes lease + grace, judged before the contact that ends it', () => {
    const { fence: f, cutOffs } = fence();
    f.contact(0);
    f.check(100_000); // no timing from the hub yet: nothing to judge by
    f.configure({ leaseMs: 1000, graceMs: 500, heartbeatMs: 200 }, 0);
    f.check(1500);
    expect(cutOffs).toEqual([]);
    // A frame arriving after a freeze: the silence before it counts first.
    f.contact(4000);
    expect(cutOffs).toEqual([4000]);
    f.check(4100);
    f.contact(5000);
    f.check(6000);
    expect(cutOffs).toEqual([4000]);
    f.check(6501);
    f.check(9000); // once per silence
    expect(cutOffs).toEqual([4000, 1501]);
  });

  it("takes the default grace when the hub's hello_ok does not say", () => {
    const { fence: f, cutOffs } = fence();
    f.configure({ leaseMs: 1000, heartbeatMs: 200 }, 0);
    f.check(1000 + defaultGraceMs);
    expect(cutOffs).toEqual([]);
    f.check(1001 + defaultGraceMs);
    expect(cutOffs).toEqual([1001 + defaultGraceMs]);
  });

  it('notices a silent hub on its own timer', async () => {
    const { fence: f, cutOffs } = fence();
    f.configure({ leaseMs: 50, graceMs: 50, heartbeatMs: 20 });
    const until = Date.now() + 5_000;
    while (cutOffs.length === 0 && Date.now() < until) await sleep(10);
    expect(cutOffs).toHaveLength(1);
    expect(cutOffs[0]).toBeGreaterThan(100);
  });
});
