/**
 * The relay of keyed frames (`attach`, `rekey`) through the store, two relays on one real SQLite
 * store and one bus standing for two hubs: the hub holding the gateway's socket gets the frame and
 * the row is gone; while a row waits, the store holds no agent key in the clear; a row nobody takes
 * is withdrawn, and the sender hears that the gateway got nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type HubFrame } from '../../protocol/src/index.ts';
import { Bus } from '../src/bus.ts';
import type { GatewayLink } from '../src/dispatch/links.ts';
import { GatewayRelay } from '../src/domain/gateway-relay.ts';
import { openStore } from '../src/store/open.ts';
import { databaseOf, type Store } from '../src/store/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'gantry-relay-'));
let store: Store;
const bus = new Bus();

/** A hub's sockets: one gateway, whose frames the test keeps. */
function hubWith(gatewayId?: string) {
  const sent: HubFrame[] = [];
  const agents = new Map([['agt-1', 'one']]);
  const link = { gatewayId, agents, send: (frame: HubFrame) => sent.push(frame) } as unknown as GatewayLink;
  const local = {
    get: (id: string) => (id === gatewayId ? link : undefined),
    serve: (_link: GatewayLink, agentId: string, name: string) => agents.set(agentId, name),
  };
  const relay = new GatewayRelay(store, bus, local, silentLogger);
  relay.start();
  return { relay, sent, agents };
}

const rows = () => databaseOf(store).selectFrom('gateway_relay').selectAll().execute();

beforeAll(async () => {
  store = await openStore(join(dir, 'hub.db'));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the gateway relay', () => {
  it("hands an attach to the hub holding the gateway's socket, which serves the agent; no row is left", async () => {
    const asking = hubWith();
    const holding = hubWith('gw-1');
    const frame = {
      t: 'attach',
      requestId: 'req-1',
      agent: { id: 'agt-2', name: 'two' },
      key: 'gnt_a_secret-attach',
      binding: { provider: 'echo', settings: {} },
    } as const;
    expect(await asking.relay.send('gw-1', frame, 2_000)).toBe(true);
    expect(holding.sent).toEqual([frame]);
    expect(holding.agents.get('agt-2')).toBe('two');
    expect(asking.sent).toEqual([]);
    expect(await rows()).toEqual([]);
  });

  it('keeps no key in the clear while a row waits, and withdraws one nobody takes', async () => {
    const asking = hubWith();
    const sending = asking.relay.send(
      'gw-away',
      { t: 'rekey', agentId: 'agt-1', key: 'gnt_a_secret-rekey' },
      300,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const waiting = await rows();
    expect(waiting).toHaveLength(1);
    expect(waiting[0]?.gateway_id).toBe('gw-away');
    expect(JSON.stringify(waiting)).not.toContain('secret-rekey');
    expect(await sending).toBe(false);
    expect(await rows()).toEqual([]);
  });

  it('does not hand a key to a connection that does not serve its agent', async () => {
    const asking = hubWith();
    const holding = hubWith('gw-2');
    const rekey = { t: 'rekey', agentId: 'agt-other', key: 'gnt_a_not-served' } as const;
    expect(await asking.relay.send('gw-2', rekey, 2_000)).toBe(false);
    expect(holding.sent).toEqual([]);
    expect(await rows()).toEqual([]);
  });
});
