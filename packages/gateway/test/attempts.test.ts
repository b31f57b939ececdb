// Proves the attempt table's rules without a process: the machine's slots shared by every holder (a
// hub session, the local API), one run per agent unless its binding is parallel, no slot once the
// daemon stops, one started attempt per workdir, and a waiting attempt that is let go never starts.
import { afterEach, describe, expect, it } from 'vitest';
import { AttemptTable, runIdOf, type Attempt } from '../src/attempts.ts';
import { echoProvider } from '../src/providers/echo.ts';

let made = 0;
function attempt(agentId: string, overrides: Partial<Attempt> = {}): Attempt {
  made += 1;
  return {
    runId: runIdOf({ assignmentId: `asg_${made}`, attempt: 1 }),
    offer: {
      id: `asg_${made}`,
      attempt: 1,
      agentId,
      agentName: agentId,
      prompt: 'work',
      sessionKey: 'default',
      mode: 'new',
      resumeFallback: 'fail',
      timeoutMs: 60_000,
    },
    workdir: `/work/${agentId}`,
    provider: echoProvider,
    args: [],
    settings: {},
    parallel: false,
    state: 'accepted',
    abort: new AbortController(),
    ...overrides,
  };
}

const agents = [
  { agentId: 'alice', provider: 'echo', parallel: false },
  { agentId: 'bob', provider: 'echo', parallel: true },
];

/** Whether a promise has settled after everything already queued has run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

afterEach(() => void (made = 0));

describe('the attempt table: capacity', () => {
  it('reports the machine slots and one slot per agent, or every free one for a parallel binding', () => {
    const table = new AttemptTable(3);
    expect(table.capacity(agents)).toEqual({
      slots: 3,
      agents: [
        { agentId: 'alice', provider: 'echo', slots: 1 },
        { agentId: 'bob', provider: 'echo', slots: 3 },
      ],
    });
    const hub = table.holder();
    hub.add(attempt('alice'));
    hub.add(attempt('bob', { parallel: true }));
    expect(table.capacity(agents)).toEqual({
      slots: 1,
      agents: [
        { agentId: 'alice', provider: 'echo', slots: 0 },
        { agentId: 'bob', provider: 'echo', slots: 1 },
      ],
    });
  });

  it("counts every holder's attempts in the machine's slots", () => {
    const table = new AttemptTable(2);
    const hub = table.holder();
    const local = table.holder();
    local.add(attempt('alice', { runId: 'local:run_1' }));
    expect(table.agentSlots('alice', false)).toBe(0); // a local run of the agent holds its one slot
    hub.add(attempt('bob'));
    expect(table.hasRoom()).toBe(false);
    expect(table.capacity(agents).slots).toBe(0);
    expect(table.agentSlots('bob', true)).toBe(0);
    expect(table.list().map((a) => a.offer.agentId)).toEqual(['alice', 'bob']);
  });

  it('frees a slot when its attempt is let go, and not for a stale one under the same run id', () => {
    const table = new AttemptTable(1);
    const hub = table.holder();
    const first = attempt('alice');
    hub.add(first);
    hub.remove(first);
    expect(table.hasRoom()).toBe(true);
    const again = { ...first, abort: new AbortController() };
    hub.add(again);
    hub.remove(first); // the earlier object of that attempt: not the one held
    expect(hub.get(first.runId)).toBe(again);
    expect(table.hasRoom()).toBe(false);
  });

  it('gives no agent a slot once closed (the daemon stops)', () => {
    const table = new AttemptTable(2);
    table.close();
    expect(table.closed).toBe(true);
    expect(table.capacity(agents)).toEqual({
      slots: 2,
      agents: [
        { agentId: 'alice', provider: 'echo', slots: 0 },
        { agentId: 'bob', provider: 'echo', slots: 0 },
      ],
    });
  });
});

describe('the attempt table: one started attempt per workdir', () => {
  it('makes an attempt wait while another starting or running one uses its workdir, until it is let go', async () => {
    const table = new AttemptTable(4);
    const hub = table.holder();
    const first = attempt('alice', { workdir: '/shared' });
    const second = attempt('bob', { workdir: '/shared' });
    hub.add(first);
    hub.add(second);
    expect(table.waitsForWorkdir(second)).toBe(false); // an accepted attempt holds no workdir yet
    first.state = 'starting';
    expect(table.waitsForWorkdir(second)).toBe(true);
    first.state = 'running';
    const free = table.untilWorkdirFree(second);
    expect(await settled(free)).toBe(false);
    hub.remove(first);
    expect(await free).toBe(true);
  });

  it('never makes a parallel binding wait, nor an attempt in another workdir', () => {
    const table = new AttemptTable(4);
    const hub = table.holder();
    hub.add(attempt('alice', { workdir: '/shared', state: 'running' }));
    expect(table.waitsForWorkdir(attempt('bob', { workdir: '/shared', parallel: true }))).toBe(false);
    expect(table.waitsForWorkdir(attempt('bob', { workdir: '/elsewhere' }))).toBe(false);
  });

  it('tells a waiting attempt that was let go or stopped meanwhile not to start', async () => {
    const table = new AttemptTable(4);
    const hub = table.holder();
    hub.add(attempt('alice', { workdir: '/shared', state: 'running' }));
    const dropped = attempt('bob', { workdir: '/shared' });
    const stopped = attempt('carol', { workdir: '/shared' });
    hub.add(dropped);
    hub.add(stopped);
    const droppedWait = table.untilWorkdirFree(dropped);
    const stoppedWait = table.untilWorkdirFree(stopped);
    hub.remove(dropped);
    stopped.abort.abort();
    expect(await droppedWait).toBe(false);
    expect(await stoppedWait).toBe(false);
  });
});
