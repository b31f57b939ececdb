// Users, roles, workspaces and tokens (issue 6), driven through the CLI against `gantry up`: roles
// decide who manages users and approvals; a revoked, rotated-out or expired token is refused at
// once, and open streams made with it end.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Sandbox, sleep, savedSession } from './harness.ts';

interface User {
  id: string;
  handle: string;
  role: string;
}
interface Token {
  id: string;
  kind: string;
  owner: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revoked: boolean;
  current: boolean;
}

describe('users, roles, workspaces and tokens', () => {
  const box = new Sandbox();
  let hubUrl: string;
  let ownerToken: string;
  let admin: string;
  let member: string;

  const as = (token: string) => ({ GANTRY_TOKEN: token });

  beforeAll(async () => {
    const up = box.start(['up', '--port', '0', '--gateway-port', '0', '--json']);
    const ready = await up.ready<{ hub: { url: string }; ownerTokenFile: string }>();
    hubUrl = ready.hub.url;
    ownerToken = readFileSync(ready.ownerTokenFile, 'utf8').trim();
    admin = (await box.json<{ token: string }>(['users', 'add', 'alice', '--role', 'admin'])).token;
    member = (await box.json<{ token: string }>(['users', 'add', 'bob'])).token;
  });
  afterAll(() => box.cleanup());

  it('adds, lists and removes users by role; the last owner stays', async () => {
    const users = await box.json<User[]>(['users', 'list']);
    expect(users.map((u) => [u.handle, u.role])).toEqual([
      ['alice', 'admin'],
      ['bob', 'member'],
      ['owner', 'owner'],
    ]);
    expect((await box.json<{ principal: { name: string } }>(['whoami'], as(member))).principal.name).toBe(
      'bob',
    );

    const byMember = await box.run(['users', 'add', 'mallory'], as(member));
    expect(byMember.code).toBe(4);
    expect(byMember.stderr).toContain('only an owner or admin can add users');
    const ownerByAdmin = await box.run(['users', 'add', 'eve', '--role', 'owner'], as(admin));
    expect(ownerByAdmin.code).toBe(4);
    expect(ownerByAdmin.stderr).toContain('only an owner can add an owner');
    const badRole = await box.run(['users', 'add', 'eve', '--role', 'king']);
    expect(badRole.code).toBe(2);

    const carol = await box.json<{ user: User; token: string }>(['users', 'add', 'carol'], as(admin));
    expect(carol.user.role).toBe('member');
    expect(carol.token).toMatch(/^gnt_u_/);
    expect((await box.run(['whoami'], as(carol.token))).code).toBe(0);
    const removed = await box.run(['users', 'remove', 'carol'], as(admin));
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('Removed carol');
    const gone = await box.run(['whoami'], as(carol.token));
    expect(gone.code).toBe(4);

    const ownerByAdminRemove = await box.run(['users', 'remove', 'owner'], as(admin));
    expect(ownerByAdminRemove.code).toBe(4);
    const lastOwner = await box.run(['users', 'remove', 'owner']);
    expect(lastOwner.code).toBe(1);
    expect(lastOwner.stderr).toContain('last owner');
    expect((await box.run(['users', 'remove', 'nobody'])).code).toBe(3);
  });

  it('lets owners and admins read every approval, members only the tool requests of their own runs', async () => {
    expect((await box.run(['approvals', 'list'], as(admin))).code).toBe(0);
    // A member started no run here: nothing of anyone else's to see.
    const mine = await box.json<unknown[]>(['approvals', 'list'], as(member));
    expect(mine).toEqual([]);
    // Members still do the everyday work.
    expect((await box.run(['send', 'hello from bob'], as(member))).code).toBe(0);
    expect((await box.run(['tasks', 'create', 'a task of bob'], as(member))).code).toBe(0);
    expect((await box.run(['agents', 'pause', 'echo'], as(member))).code).toBe(4);
  });

  it('keeps agent keys away from users, tokens and roles', async () => {
    const agent = await box.json<{ key: string }>(['agents', 'create', 'keyed']);
    for (const args of [
      ['users', 'list'],
      ['tokens', 'list'],
      ['tokens', 'create'],
      ['users', 'add', 'x'],
    ]) {
      const result = await box.run(args, as(agent.key));
      expect(result.code, args.join(' ')).toBe(4);
      expect(result.stderr).toContain('only a user can');
    }
  });

  it('creates workspaces; --workspace picks one for a person in several', async () => {
    const created = await box.json<{ workspace: { id: string; name: string }; token: string }>([
      'workspaces',
      'create',
      'second',
    ]);
    expect(created.token).toMatch(/^gnt_u_/);
    const mine = await box.json<{ name: string; role: string; current: boolean }[]>(['workspaces', 'list']);
    expect(mine.map((w) => [w.name, w.role, w.current])).toEqual([
      ['default', 'owner', true],
      ['second', 'owner', false],
    ]);
    // Same login, the other workspace: its own (empty) agents and users.
    const there = await box.json<{ workspace: { name: string } }>(['whoami', '--workspace', 'second']);
    expect(there.workspace.name).toBe('second');
    expect(await box.json<unknown[]>(['agents', 'list', '--workspace', 'second'])).toEqual([]);
    const usersThere = await box.json<User[]>(['users', 'list'], { GANTRY_WORKSPACE: created.workspace.id });
    expect(usersThere.map((u) => u.handle)).toEqual(['owner']);
    // Its token acts there without a flag.
    const viaToken = await box.json<{ workspace: { name: string } }>(['whoami'], as(created.token));
    expect(viaToken.workspace.name).toBe('second');
    // Bob is not a member of it.
    const bob = await box.run(['agents', 'list', '--workspace', 'second'], as(member));
    expect(bob.code).toBe(4);
    expect(bob.stderr).toContain("not a member of workspace 'second'");
    expect((await box.run(['workspaces', 'create', 'second'])).code).toBe(1);
  });

  it('creates, lists and revokes tokens; a revoked token is refused and its open streams end', async () => {
    const created = await box.json<{ token: Token; secret: string }>(['tokens', 'create'], as(member));
    expect(created.secret).toMatch(/^gnt_u_/);
    expect(created.token.expiresAt).toBeNull();
    const own = await box.json<Token[]>(['tokens', 'list'], as(member));
    expect(own.map((t) => t.owner)).toEqual(['bob', 'bob']);
    const all = await box.json<Token[]>(['tokens', 'list']);
    const kinds = new Set(all.map((t) => t.kind));
    expect([...kinds].sort()).toEqual(['agent', 'gateway', 'user']);
    expect(all.find((t) => t.id === created.token.id)).toMatchObject({
      kind: 'user',
      owner: 'bob',
      revoked: false,
    });
    for (const t of all)
      expect(Object.keys(t)).toEqual(expect.arrayContaining(['createdAt', 'expiresAt', 'lastUsedAt']));

    // A member cannot revoke someone else's token.
    const ownerTokens = all.filter((t) => t.owner === 'owner');
    expect((await box.run(['tokens', 'revoke', ownerTokens[0]?.id ?? 'x'], as(member))).code).toBe(3);

    const stream = box.start(['events', 'stream', '--json'], as(created.secret));
    const agent = await box.json<{ id: string }>(['agents', 'create', 'idle']); // no gateway: stays queued
    const queued = await box.json<{ id: string }>(['assign', 'idle', 'wait forever'], as(created.secret));
    expect(agent.id).toBeTruthy();
    const follow = box.start(['assignments', 'events', queued.id, '--follow', '--json'], as(created.secret));
    // The stream is live: it sees new activity.
    await eventually(async () => {
      await box.run(['send', 'ping the stream']);
      return stream.stdout.includes('ping the stream') ? true : undefined;
    });
    await sleep(300);
    expect(follow.proc.exitCode).toBeNull();

    const revokedAt = Date.now();
    const revoked = await box.run(['tokens', 'revoke', created.token.id], as(member));
    expect(revoked.code).toBe(0);
    expect((await box.run(['whoami'], as(created.secret))).code).toBe(4);
    expect(await stream.exited).toBe(4);
    expect(await follow.exited).toBe(4);
    expect(Date.now() - revokedAt).toBeLessThan(4000);
    expect(stream.stdout).toContain('revoked token'); // --json: the error as JSON
    const after = await box.json<Token[]>(['tokens', 'list'], as(member));
    expect(after.find((t) => t.id === created.token.id)?.revoked).toBe(true);
  });

  it('refuses an expired token once its time has passed, also on an open stream', async () => {
    const short = await box.json<{ token: Token; secret: string }>(['tokens', 'create', '--expires', '1s']);
    expect(Date.parse(short.token.expiresAt ?? '') - Date.parse(short.token.createdAt)).toBe(1000);
    await sleep(1100);
    const late = await box.run(['whoami'], as(short.secret));
    expect(late.code).toBe(4);
    expect(late.stderr).toContain('expired');

    const longer = await box.json<{ secret: string }>(['tokens', 'create', '--expires', '10s']);
    expect((await box.run(['whoami'], as(longer.secret))).code).toBe(0);
    const stream = box.start(['events', 'stream', '--json'], as(longer.secret));
    // The stream starts with what happens next: send until it has connected and shows one.
    await eventually(async () => {
      await box.run(['send', 'before expiry']);
      return stream.stdout.includes('before expiry') ? true : undefined;
    });
    expect(await stream.exited).toBe(4);
    expect(stream.stdout).toContain('token expired');
    expect((await box.run(['tokens', 'create', '--expires', 'soon'])).code).toBe(2);
  });

  it('rotates an agent key: the old key is refused, the new one works, the gateway keeps serving', async () => {
    const session = savedSession(box.home) as {
      agents: { name: string; key: string }[];
    };
    const oldKey = session.agents.find((a) => a.name === 'echo')?.key ?? '';
    expect((await box.run(['whoami'], as(oldKey))).code).toBe(0);
    expect((await box.run(['agents', 'rotate-key', 'echo'], as(member))).code).toBe(4);
    // The gateway serving it holds the new key: it is not printed unless asked for.
    const quiet = await box.run(['agents', 'rotate-key', 'echo'], as(admin));
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).not.toMatch(/gnt_a_/);
    expect(quiet.stdout).toMatch(/^New key for echo, handed to gateway \S+, which serves it; not printed/);
    const rotated = await box.json<{ key: string; revoked: string[]; expiresAt: string }>(
      ['agents', 'rotate-key', 'echo', '--print-key', '--expires', '1h'],
      as(admin),
    );
    expect(rotated.key).toMatch(/^gnt_a_/);
    expect(rotated.revoked.length).toBeGreaterThan(0);
    // Agent keys may expire.
    expect(Date.parse(rotated.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
    expect(Date.parse(rotated.expiresAt) - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect((await box.run(['whoami'], as(oldKey))).code).toBe(4);
    const me = await box.json<{ principal: { kind: string; name: string } }>(['whoami'], as(rotated.key));
    expect(me.principal).toMatchObject({ kind: 'agent', name: 'echo' });
    // The gateway serving the agent is handed the new key for its runs.
    await eventually(async () => {
      const saved = savedSession(box.home) as {
        agents: { name: string; key: string }[];
      };
      return saved.agents.find((a) => a.name === 'echo')?.key === rotated.key ? true : undefined;
    });
    // The gateway's own token is separate: it keeps serving the agent.
    const done = await box.json<{ state: string }>(['assign', 'echo', 'still there?', '--wait', '20s']);
    expect(done.state).toBe('succeeded');
  });

  it('closes a gateway connection when its gateway token is revoked', async () => {
    const all = await box.json<Token[]>(['tokens', 'list']);
    const gatewayToken = all.find((t) => t.kind === 'gateway' && !t.revoked);
    expect(gatewayToken).toBeDefined();
    const revoked = await box.run(['tokens', 'revoke', gatewayToken?.id ?? '']);
    expect(revoked.code).toBe(0);
    const gateways = await eventually(async () => {
      const list = await box.json<{ connected: boolean }[]>(['gateways', 'list']);
      return list.every((g) => !g.connected) ? list : undefined;
    }, 5000);
    expect(gateways.length).toBeGreaterThan(0);
    expect(hubUrl).toMatch(/^http/);
    expect(ownerToken).toMatch(/^gnt_u_/);
  });
});
