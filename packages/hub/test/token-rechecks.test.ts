/**
 * Token re-checks of open connections (issue 15): a revocation no notice told this hub of (made
 * through another hub on the same database) still closes the gateway connection that used the
 * token within one re-check, and the re-check is one batched read for all connections, not one
 * read per connection. Real gateway sessions on an in-process hub with real SQLite.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rechecks, recheckMs } from '../src/auth/revocation.ts';
import { servedGateway, until } from './served-gateways.ts';
import { createTempHub, type InProcessHub } from './temp-hub.ts';

let temp: InProcessHub;

beforeAll(async () => {
  temp = await createTempHub('gantry-rechecks-');
});
afterAll(() => temp?.stop());

it('closes the connection of a token revoked behind its back, in one batched re-read for all', async () => {
  const store = temp.hub.ctx.store;
  const fleet = await Promise.all(Array.from({ length: 30 }, () => servedGateway(temp)));
  const victim = fleet[7];
  if (!victim) throw new Error('no gateway');
  const before = rechecks(store).reads;
  const started = Date.now();
  // Revoked in the store only, as another hub would: this hub's bus hears nothing.
  await store.tokens.revoke(await store.tokens.live({ ownerId: victim.gatewayId, kind: 'gateway' }));
  const closed = await until('the socket to close', () => victim.socket.closedWith, recheckMs + 5_000);
  expect(closed).toEqual({ code: 4003, reason: 'gateway token revoked' });
  expect(Date.now() - started).toBeLessThan(recheckMs + 2_000);
  // 30 connections, at most two re-check rounds: the reads counted rounds, not connections.
  const reads = rechecks(store).reads - before;
  expect(reads).toBeGreaterThanOrEqual(1);
  expect(reads).toBeLessThanOrEqual(2);
  expect(fleet.filter((g) => g.socket.closedWith)).toHaveLength(1);
}, 20_000);
