/**
 * The store contract for who holds a gateway's socket (issue 15), on SQLite and PostgreSQL alike: a
 * gateway reads connected only while the hub instance holding it is unexpired; a close by a hub
 * that no longer holds it changes nothing; a sweep clears the gateways of dead instances only; a
 * clean stop clears its own; an instance taken for dead finds out on renewal and claims back.
 */
import { expect, it } from 'vitest';
import type { Store } from '../src/store/store.ts';
import { at, describeContract, unique } from './store-fixtures.ts';

describeContract('store contract: hub instances', (c) => {
  const store = (): Store => c.store;
  const gateway = (name: string) => store().gateways.create(c.s.ws.id, name, null, at(0));
  const connected = async (id: string, now: number) => (await store().gateways.get(id, now))?.connected;

  it('hub instances: a gateway is connected while its instance lives, in get, list and ofAgents', async () => {
    const hub = unique('hubi');
    await store().hubInstances.register(hub, at(0), at(15));
    const gw = await gateway('laptop');
    await store().gateways.attach(gw.id, c.s.agent.id, 'echo', at(0));
    expect(await connected(gw.id, at(1))).toBe(0);
    await store().gateways.connect(gw.id, hub, { last_seen_at: at(1), version: '1.0' });
    expect(await store().gateways.get(gw.id, at(2))).toMatchObject({
      connected: 1,
      hub_instance: hub,
      version: '1.0',
    });
    expect((await store().gateways.list(c.s.ws.id, at(2))).map((g) => g.connected)).toEqual([1]);
    expect((await store().gateways.ofAgents([c.s.agent.id], at(2))).map((g) => g.connected)).toEqual([1]);
    // The instance stopped renewing (killed): at its expiry the gateway reads disconnected everywhere.
    expect(await connected(gw.id, at(15))).toBe(0);
    expect((await store().gateways.list(c.s.ws.id, at(15))).map((g) => g.connected)).toEqual([0]);
    expect((await store().gateways.ofAgents([c.s.agent.id], at(15))).map((g) => g.connected)).toEqual([0]);
    expect(await store().hubInstances.renew(hub, at(16), at(31))).toBe(true);
    expect(await connected(gw.id, at(16))).toBe(1);
  });

  it('hub instances: a close by an instance that no longer holds the gateway changes nothing', async () => {
    const [a, b] = [unique('hubi'), unique('hubi')];
    for (const hub of [a, b]) await store().hubInstances.register(hub, at(0), at(100));
    const gw = await gateway('moved');
    await store().gateways.connect(gw.id, a);
    await store().gateways.connect(gw.id, b); // reconnected to B before A saw its socket close
    expect(await store().gateways.disconnect(gw.id, a, at(2))).toBe(false);
    expect(await store().gateways.get(gw.id, at(3))).toMatchObject({ connected: 1, hub_instance: b });
    expect(await store().gateways.disconnect(gw.id, b, at(4))).toBe(true);
    expect(await store().gateways.get(gw.id, at(5))).toMatchObject({
      connected: 0,
      hub_instance: null,
      last_seen_at: at(4),
    });
  });

  it('hub instances: a sweep clears the gateways of dead instances only; a clean stop clears its own', async () => {
    const [dead, alive, stopping] = [unique('hubi'), unique('hubi'), unique('hubi')];
    await store().hubInstances.register(dead, at(0), at(10));
    await store().hubInstances.register(alive, at(0), at(100));
    await store().hubInstances.register(stopping, at(0), at(100));
    const [gd, ga, gs, legacy] = await Promise.all(['d', 'a', 's', 'l'].map((n) => gateway(n)));
    await store().gateways.connect(gd!.id, dead);
    await store().gateways.connect(ga!.id, alive);
    await store().gateways.connect(gs!.id, stopping);
    await store().gateways.update(legacy!.id, { connected: 1 }); // marked before instances existed
    await store().hubInstances.sweep(at(20));
    expect(await store().gateways.get(gd!.id, at(20))).toMatchObject({ connected: 0, hub_instance: null });
    expect(await store().gateways.get(ga!.id, at(20))).toMatchObject({ connected: 1, hub_instance: alive });
    // Only a starting hub's sweep clears rows no instance holds.
    expect((await store().gateways.get(legacy!.id, at(20)))?.hub_instance).toBeNull();
    await store().hubInstances.sweep(at(20), true);
    expect(await connected(ga!.id, at(20))).toBe(1);
    expect(await connected(gs!.id, at(20))).toBe(1);
    await store().hubInstances.remove(stopping, at(21));
    expect(await store().gateways.get(gs!.id, at(22))).toMatchObject({ connected: 0, hub_instance: null });
    expect(await connected(ga!.id, at(22))).toBe(1);
    // The dead instance's row went with the sweep: renewing it writes it again and says so.
    expect(await store().hubInstances.renew(dead, at(30), at(40))).toBe(false);
    await store().gateways.reclaim([gd!.id, ga!.id], dead);
    expect(await store().gateways.get(gd!.id, at(31))).toMatchObject({ connected: 1, hub_instance: dead });
    // Not a gateway another instance holds.
    expect(await store().gateways.get(ga!.id, at(31))).toMatchObject({ connected: 1, hub_instance: alive });
  });
});
