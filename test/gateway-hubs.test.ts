// One gateway serving two hubs (issue 14): `gateway connect` to a second hub system adds it to the
// running gateway (no restart), an assignment on each runs, one hub is killed and started again on
// its data folder and port while the other keeps serving, and afterwards its agents are served
// again; `gateway hubs list --json` and `gateway hubs remove`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { eventually, Sandbox, type Service } from './harness.ts';
import { connectArgs, createAgent, startHub, type HubReady } from './fixtures.ts';

interface HubEntry {
  url: string;
  hubId: string | null;
  gatewayId: string;
  state: string;
  agents: { name: string }[];
}

describe('one gateway, several hubs', () => {
  const boxA = new Sandbox();
  const boxB = new Sandbox();
  const machine = new Sandbox();
  let hubA: { hub: Service; ready: HubReady };
  let hubB: { hub: Service; ready: HubReady };

  const run = async (box: Sandbox, agent: string, prompt: string) =>
    box.json<Assignment>(['assign', agent, prompt, '--wait']);
  const hubs = () => machine.json<HubEntry[]>(['gateway', 'hubs', 'list']);

  beforeAll(async () => {
    [hubA, hubB] = await Promise.all([startHub(boxA), startHub(boxB)]);
    const alpha = await createAgent(boxA, 'alpha');
    const connected = await machine.run(connectArgs(hubA.ready.url, alpha.key, 'echo'));
    expect(connected.code, connected.stderr).toBe(0);
    await machine.start(['gateway', 'run', '--port', '0', '--json']).ready();
  });
  afterAll(async () => {
    await machine.cleanup();
    await Promise.all([boxA.cleanup(), boxB.cleanup()]);
  });

  it('adds a second hub system to the running gateway, and serves an agent on each at once', async () => {
    const beta = await createAgent(boxB, 'beta');
    const added = await machine.run(connectArgs(hubB.ready.url, beta.key, 'echo'));
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Also serving: ${hubA.ready.url}`);

    expect(await run(boxB, 'beta', 'to b')).toMatchObject({
      state: 'succeeded',
      result: { output: 'echo: to b' },
    });
    expect(await run(boxA, 'alpha', 'to a')).toMatchObject({
      state: 'succeeded',
      result: { output: 'echo: to a' },
    });

    const listed = await eventually(async () => {
      const all = await hubs();
      return all.every((h) => h.state === 'connected') ? all : undefined;
    });
    expect(listed.map((h) => h.url)).toEqual([hubA.ready.url, hubB.ready.url]);
    expect(listed.map((h) => h.agents.map((a) => a.name))).toEqual([['alpha'], ['beta']]);
    expect(listed[0]?.hubId).toMatch(/^hub_/);
    expect(listed[1]?.hubId).toMatch(/^hub_/);
    expect(listed[0]?.hubId).not.toBe(listed[1]?.hubId);
  });

  it('serves a new agent of a hub it already serves at once, keeping the other', async () => {
    const gamma = await createAgent(boxA, 'gamma');
    const again = await machine.run(connectArgs(hubA.ready.url, gamma.key, 'echo'));
    expect(again.code, again.stderr).toBe(0);
    expect(await run(boxA, 'gamma', 'new')).toMatchObject({
      state: 'succeeded',
      result: { output: 'echo: new' },
    });
    expect((await hubs()).map((h) => h.agents.map((a) => a.name).sort())).toEqual([
      ['alpha', 'gamma'],
      ['beta'],
    ]);
  });

  it('keeps serving one hub while the other restarts, and serves the restarted one again', async () => {
    const port = new URL(hubA.ready.url).port;
    await hubA.hub.stop('SIGKILL');
    await eventually(async () => ((await hubs())[0]?.state === 'connected' ? undefined : true));
    expect(await run(boxB, 'beta', 'while a is down')).toMatchObject({
      state: 'succeeded',
      result: { output: 'echo: while a is down' },
    });

    const restarted = boxA.start(['hub', 'start', '--port', port, '--json']);
    expect((await restarted.ready<HubReady>()).url).toBe(hubA.ready.url);
    expect(await run(boxA, 'alpha', 'after restart')).toMatchObject({
      state: 'succeeded',
      result: { output: 'echo: after restart' },
    });
    const status = await machine.json<{ hubs: { url: string; state: string }[] }>(['gateway', 'status']);
    expect(status.hubs.map((h) => h.url)).toEqual([hubA.ready.url, hubB.ready.url]);
  });

  it('removes a hub: its agents are no longer served here and its credentials are forgotten', async () => {
    const unknown = await machine.run(['gateway', 'hubs', 'remove', 'http://127.0.0.1:1']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/serves no hub/);

    const removed = await machine.json<{ removed: { url: string } }>([
      'gateway',
      'hubs',
      'remove',
      hubB.ready.url,
    ]);
    expect(removed.removed.url).toBe(hubB.ready.url);
    expect((await hubs()).map((h) => h.url)).toEqual([hubA.ready.url]);
    // The running gateway lets go of hub B: it shows the gateway offline there.
    await eventually(async () => {
      const gateways = await boxB.json<{ connected: boolean }[]>(['gateways', 'list']);
      return gateways.every((g) => !g.connected) ? true : undefined;
    });
    expect(await run(boxA, 'alpha', 'still here')).toMatchObject({ state: 'succeeded' });
  });
});
