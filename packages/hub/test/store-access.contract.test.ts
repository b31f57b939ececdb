/**
 * The store contract for who may do what, on SQLite and PostgreSQL alike: workspaces and
 * memberships, tokens, browser sessions and sign-in codes, agents' removal, gateways' devices,
 * trust grants and pass-through folders, the audit log and the meta table.
 */
import { expect, it } from 'vitest';
import type { GrantRow, FolderRow } from '../src/store/devices.ts';
import type { Store, TokenRow } from '../src/store/store.ts';
import { assign, at, describeContract, ids, unique, type Seed } from './store-fixtures.ts';

function token(s: Seed, ownerId: string, kind: string, n: number): TokenRow {
  return {
    id: unique('tok'),
    kind,
    owner_id: ownerId,
    workspace_id: s.ws.id,
    secret_hash: `hash-${n}`,
    created_at: at(n),
    expires_at: null,
    assignment_id: null,
    last_used_at: null,
    revoked_at: null,
  };
}

function grant(s: Seed, gatewayId: string, n: number, patch: Partial<GrantRow> = {}): GrantRow {
  return {
    id: unique('apv'),
    workspace_id: s.ws.id,
    gateway_id: gatewayId,
    agent_id: s.agent.id,
    kind: 'device',
    status: 'pending',
    subject: `grant ${n}`,
    fingerprint: `SHA256:${n}`,
    hostname: 'box',
    os_user: 'ada',
    created_at: at(n),
    decided_at: null,
    decided_by: null,
    ...patch,
  };
}

function folder(s: Seed, gatewayId: string, workdir: string, n: number): FolderRow {
  return {
    id: unique('apv'),
    workspace_id: s.ws.id,
    gateway_id: gatewayId,
    agent_id: s.agent.id,
    workdir,
    hostname: 'box',
    os_user: 'ada',
    status: 'pending',
    subject: `folder ${workdir}`,
    created_at: at(n),
    decided_at: null,
    decided_by: null,
    key_issued_at: null,
  };
}

describeContract('store contract: access', (c) => {
  const store = (): Store => c.store;

  it('meta: setOnce keeps the first value however often it is called', async () => {
    const key = unique('key');
    expect(await store().meta.setOnce(key, 'first')).toBe('first');
    expect(await store().meta.setOnce(key, 'second')).toBe('first');
    expect(await store().meta.get(key)).toBe('first');
  });

  it('users: found by id or handle, listed by handle; a person in several workspaces; owners counted; deleted', async () => {
    const { s } = c;
    expect(await store().users.findWorkspace(s.ws.id)).toEqual(s.ws);
    expect(await store().users.findWorkspace(s.ws.name)).toEqual(s.ws);
    expect(await store().users.findWorkspace(unique('none'))).toBeUndefined();

    const bob = await store().users.create(s.ws.id, 'bob', 'member', at(1));
    expect(await store().users.find(s.ws.id, 'bob')).toEqual(bob);
    expect(await store().users.find(s.ws.id, bob.id)).toEqual(bob);
    expect(await store().users.find(s.ws.id, 'BOB', 'bob')).toEqual(bob);
    expect(await store().users.find(unique('ws'), 'bob')).toBeUndefined();
    expect((await store().users.list(s.ws.id)).map((u) => u.handle)).toEqual(['ada', 'bob']);

    const other = await store().users.createWorkspace(unique('a-ws'), at(2));
    const again = await store().users.create(other.id, 'ada', 'owner', at(2), s.user.person_id);
    expect(await store().users.membership(other.id, s.user.person_id)).toEqual(again);
    expect(await store().users.membership(other.id, bob.person_id)).toBeUndefined();
    const mine = await store().users.workspacesOf(s.user.person_id);
    // By name: `a-ws-…` before the seed's `ws-…`.
    expect(mine.map((w) => [w.id, w.role])).toEqual([
      [other.id, 'owner'],
      [s.ws.id, 'owner'],
    ]);

    expect(await store().users.countOwners(s.ws.id)).toBe(1);
    expect(await store().transaction((tx) => tx.users.delete(bob.id))).toBe(true);
    expect(await store().users.delete(bob.id)).toBe(false);
    expect(await store().users.get(bob.id)).toBeUndefined();
  });

  it('tokens: listed (all, or one user’s own), live ones found, revoked once; the names of their owners', async () => {
    const { s } = c;
    const gw = await store().gateways.create(s.ws.id, 'gw', null, at(0));
    const mine = token(s, s.user.id, 'user', 1);
    const agentKey = token(s, s.agent.id, 'agent', 2);
    const gateway = token(s, gw.id, 'gateway', 3);
    for (const t of [mine, agentKey, gateway]) await store().tokens.insert(t);
    expect(ids(await store().tokens.list(s.ws.id))).toEqual(ids([mine, agentKey, gateway]));
    expect(ids(await store().tokens.list(s.ws.id, s.user.id))).toEqual(ids([mine]));

    expect(await store().tokens.live({ id: mine.id })).toEqual([mine.id]);
    expect(await store().tokens.live({ ownerId: s.agent.id, kind: 'agent' })).toEqual([agentKey.id]);
    expect(await store().tokens.live({ ownerId: s.agent.id, kind: 'user' })).toEqual([]);
    await store().tokens.revoke([agentKey.id], at(10));
    await store().tokens.revoke([agentKey.id], at(20));
    await store().tokens.revoke([]);
    expect((await store().tokens.get(agentKey.id))?.revoked_at).toBe(at(10));
    expect(await store().tokens.live({ id: agentKey.id })).toEqual([]);

    expect(await store().tokens.revokeAllOf(gw.id, at(30))).toBe(1);
    expect(await store().tokens.revokeAllOf(gw.id, at(40))).toBe(0);

    const names = await store().tokens.ownerNames(s.ws.id);
    expect(names.get(s.user.id)).toBe('ada');
    expect(names.get(s.agent.id)).toBe('claude');
    expect(names.get(gw.id)).toBe('gw');
  });

  it('tokens: read with their owner in one statement, each kind from its own table; a gone owner is null', async () => {
    const { s } = c;
    const gw = await store().gateways.create(s.ws.id, 'gw-owner', null, at(0));
    const mine = token(s, s.user.id, 'user', 1);
    const agentKey = token(s, s.agent.id, 'agent', 2);
    const run = token(s, s.agent.id, 'run', 3);
    const gateway = token(s, gw.id, 'gateway', 4);
    // The owner id names an agent, the kind a user: no user owns it.
    const wrongTable = token(s, s.agent.id, 'user', 5);
    const orphan = token(s, unique('agt'), 'agent', 6);
    for (const t of [mine, agentKey, run, gateway, wrongTable, orphan]) await store().tokens.insert(t);
    const read = (id: string) => store().tokens.withOwner(id);
    expect(await read(mine.id)).toEqual({ ...mine, owner_name: s.user.handle, owner_role: s.user.role });
    expect(await read(agentKey.id)).toEqual({ ...agentKey, owner_name: 'claude', owner_role: null });
    expect(await read(run.id)).toEqual({ ...run, owner_name: 'claude', owner_role: null });
    expect(await read(gateway.id)).toEqual({ ...gateway, owner_name: 'gw-owner', owner_role: null });
    expect(await read(wrongTable.id)).toMatchObject({ owner_name: null, owner_role: null });
    expect(await read(orphan.id)).toMatchObject({ id: orphan.id, owner_name: null });
    expect(await read(unique('tok'))).toBeUndefined();
  });

  it('browser sessions: stored by hash, touched, deleted; sign-in codes used once; ended ones pruned', async () => {
    const { s } = c;
    const t = token(s, s.user.id, 'user', 1);
    await store().tokens.insert(t);
    const session = {
      id_hash: unique('sid'),
      csrf_hash: 'csrf',
      token_id: t.id,
      workspace_id: s.ws.id,
      created_at: at(0),
      last_used_at: at(0),
      idle_expires_at: at(100),
      expires_at: at(1000),
    };
    await store().tokens.insertSession(session);
    expect(await store().tokens.session(session.id_hash)).toEqual(session);
    await store().tokens.touchSession(session.id_hash, at(50), at(150));
    expect(await store().tokens.session(session.id_hash)).toMatchObject({
      last_used_at: at(50),
      idle_expires_at: at(150),
    });

    const code = {
      code_hash: unique('code'),
      token_id: t.id,
      created_at: at(0),
      expires_at: at(60),
      used_at: null,
    };
    await store().tokens.insertSigninCode(code);
    expect(await store().tokens.useSigninCode(code.code_hash, at(61))).toBeUndefined(); // expired
    const fresh = { ...code, code_hash: unique('code'), expires_at: at(500) };
    await store().tokens.insertSigninCode(fresh);
    const [first, second] = await Promise.all([
      store().tokens.useSigninCode(fresh.code_hash, at(10)),
      store().tokens.useSigninCode(fresh.code_hash, at(10)),
    ]);
    expect([first, second].filter(Boolean)).toEqual([t.id]);

    const ended = { ...session, id_hash: unique('sid'), idle_expires_at: at(5), expires_at: at(1000) };
    await store().tokens.insertSession(ended);
    await store().tokens.pruneSessions(at(100));
    expect(await store().tokens.session(ended.id_hash)).toBeUndefined();
    expect(await store().tokens.session(session.id_hash)).toBeDefined();
    expect(await store().tokens.useSigninCode(code.code_hash, at(0))).toBeUndefined(); // pruned
    await store().tokens.deleteSession(session.id_hash);
    expect(await store().tokens.session(session.id_hash)).toBeUndefined();
  });

  it('agents: paused and resumed once each; referenced by history, else deleted with what hangs on them', async () => {
    const { s } = c;
    expect(await store().agents.setPaused(s.agent.id, true)).toBe(true);
    expect(await store().agents.setPaused(s.agent.id, true)).toBe(false);
    expect(await store().agents.get(s.agent.id)).toMatchObject({ paused: 1 });
    expect(await store().agents.setPaused(s.agent.id, false)).toBe(true);

    const idle = await store().agents.create(s.ws.id, 'idle', 'managed', at(1));
    const gw = await store().gateways.create(s.ws.id, 'gw', null, at(1));
    await store().gateways.attach(gw.id, idle.id, 'echo');
    await store().tokens.insert(token(s, idle.id, 'agent', 2));
    await store().devices.insertGrant({ ...grant(s, gw.id, 2), agent_id: idle.id });
    expect(await store().agents.referenced(idle.id)).toBe(false);
    await store().agents.delete(idle.id);
    expect(await store().agents.get(idle.id)).toBeUndefined();
    expect(await store().gateways.agentsOf([gw.id])).toEqual([]);
    expect(await store().tokens.list(s.ws.id)).toEqual([]);

    await assign(store(), s, at(3));
    expect(await store().agents.referenced(s.agent.id)).toBe(true);
    await store().agents.markRemoved(s.agent.id, at(4));
    expect(await store().agents.find(s.ws.id, 'claude')).toBeUndefined();
    expect(await store().agents.findRemoved(s.ws.id, 'claude')).toMatchObject({
      id: s.agent.id,
      removed_at: at(4),
    });
    expect(await store().agents.findRemoved(s.ws.id, 'idle')).toBeUndefined();
  });

  it('gateways: detach takes one agent off one gateway', async () => {
    const { s } = c;
    const gw = await store().gateways.create(s.ws.id, 'gw', null, at(1));
    const other = await store().agents.create(s.ws.id, 'other', 'managed', at(1));
    await store().gateways.attach(gw.id, s.agent.id, 'echo');
    await store().gateways.attach(gw.id, other.id, 'echo');
    await store().gateways.detach(gw.id, s.agent.id);
    expect((await store().gateways.agentsOf([gw.id])).map((a) => a.id)).toEqual([other.id]);
  });

  it('audit: recorded with its data, listed newest first within the workspace', async () => {
    const { s } = c;
    await store().audit.record({
      workspaceId: s.ws.id,
      actor: 'user:x',
      action: 'one',
      subject: 'a',
      data: { n: 1 },
    });
    // Stamped with the clock: the next one a few milliseconds later.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store().audit.record({
      workspaceId: s.ws.id,
      actor: 'user:x',
      action: 'two',
      subject: 'b',
      data: null,
    });
    const rows = await store().audit.list(s.ws.id);
    expect(rows.map((r) => [r.action, r.data])).toEqual([
      ['two', 'null'],
      ['one', '{"n":1}'],
    ]);
    expect(await store().audit.list(s.ws.id, 1)).toHaveLength(1);
    expect(await store().audit.list(unique('ws'))).toEqual([]);
  });

  it('devices: the key recorded once; the host a person approved becomes the device’s', async () => {
    const { s } = c;
    const gw = await store().gateways.create(s.ws.id, 'gw', null, at(1));
    const device = {
      gateway_id: gw.id,
      workspace_id: s.ws.id,
      public_key: 'PEM',
      fingerprint: 'SHA256:x',
      hostname: 'old',
      os_user: 'ada',
      created_at: at(1),
      updated_at: at(1),
    };
    expect(await store().devices.get(gw.id)).toBeUndefined();
    await store().devices.insert(device);
    await store().devices.setHost(gw.id, 'new', 'bob', at(2));
    expect(await store().devices.get(gw.id)).toEqual({
      ...device,
      hostname: 'new',
      os_user: 'bob',
      updated_at: at(2),
    });
  });

  it('grants: by agent newest first, by gateway oldest first; asked ones are approvals; decided once', async () => {
    const { s } = c;
    const gw = await store().gateways.create(s.ws.id, 'gw', null, at(1));
    const tofu = grant(s, gw.id, 1, {
      status: 'approved',
      decided_by: 'trust_on_first_use',
      decided_at: at(1),
    });
    const asked = grant(s, gw.id, 2);
    const denied = grant(s, gw.id, 3, { status: 'denied', decided_by: 'usr_x', decided_at: at(3) });
    for (const g of [tofu, asked, denied]) await store().devices.insertGrant(g);
    expect(await store().devices.grant(asked.id)).toEqual(asked);
    expect(ids(await store().devices.grantsOfAgent(s.agent.id))).toEqual(ids([denied, asked, tofu]));
    expect(ids(await store().devices.grantsOfGateway(gw.id))).toEqual(ids([tofu, asked, denied]));
    expect(ids(await store().devices.approvals(s.ws.id, {}))).toEqual(ids([denied, asked]));
    expect(ids(await store().devices.approvals(s.ws.id, { status: 'pending' }))).toEqual(ids([asked]));
    expect(ids(await store().devices.approvals(s.ws.id, { limit: 1 }))).toEqual(ids([denied]));

    expect(await store().devices.decideGrant(asked.id, 'approved', s.user.id, at(5))).toBe(true);
    expect(await store().devices.decideGrant(asked.id, 'denied', s.user.id, at(6))).toBe(false);
    expect(await store().devices.grant(asked.id)).toMatchObject({
      status: 'approved',
      decided_by: s.user.id,
      decided_at: at(5),
    });
  });

  it('folders: the newest registration of a workdir; listed newest first by status; decided once; key issued', async () => {
    const { s } = c;
    const gw = await store().gateways.create(s.ws.id, 'gw', null, at(1));
    const first = folder(s, gw.id, '/src/app', 1);
    const second = folder(s, gw.id, '/src/app', 2);
    const other = folder(s, gw.id, '/src/lib', 3);
    for (const f of [first, second, other]) await store().devices.insertFolder(f);
    expect(await store().devices.folder(first.id)).toEqual(first);
    expect(await store().devices.latestFolder(gw.id, '/src/app')).toEqual(second);
    expect(await store().devices.latestFolder(gw.id, '/elsewhere')).toBeUndefined();
    expect(ids(await store().devices.folders(s.ws.id, {}))).toEqual(ids([other, second, first]));
    expect(ids(await store().devices.folders(s.ws.id, { limit: 1 }))).toEqual(ids([other]));

    expect(await store().devices.decideFolder(second.id, 'approved', s.user.id, at(5))).toBe(true);
    expect(await store().devices.decideFolder(second.id, 'denied', s.user.id, at(6))).toBe(false);
    expect(ids(await store().devices.folders(s.ws.id, { status: 'approved' }))).toEqual(ids([second]));
    await store().devices.folderKeyIssued(second.id, at(7));
    expect(await store().devices.folder(second.id)).toMatchObject({
      status: 'approved',
      key_issued_at: at(7),
    });
  });
});
