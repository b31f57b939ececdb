// Device-key gateways and their approval (issue 6, DESIGN §5), with real hub and gateway processes.
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentReach, Approval, Assignment, AuditEntry, GatewayDetail } from '@gantry/protocol';
import { eventually, Sandbox, sleep, type Service } from './harness.ts';
import { createAgent, startHub, type HubReady } from './fixtures.ts';

interface Status {
  connected: boolean;
  refused: string | null;
  pending: string | null;
}

describe('device-key gateways', () => {
  const hubBox = new Sandbox();
  let hub: HubReady;
  let key: string;
  const boxes: Sandbox[] = [];

  beforeAll(async () => {
    hub = (await startHub(hubBox)).ready;
    key = (await createAgent(hubBox, 'alpha')).key;
  });
  afterAll(async () => {
    await Promise.all(boxes.map((b) => b.cleanup()));
    await hubBox.cleanup();
  });

  async function machine(): Promise<Sandbox> {
    const box = new Sandbox();
    boxes.push(box);
    await box.run(['login', '--url', hub.url, '--token', hub.ownerToken]);
    return box;
  }
  const run = (box: Sandbox, apiKey = key): Service =>
    box.start(['gateway', 'run', '--server-url', hub.url, '--provider', 'echo', '--port', '0', '--json'], {
      GANTRY_API_KEY: apiKey,
    });
  const status = (box: Sandbox) => box.json<Status>(['gateway', 'status']);
  const audit = () => hubBox.json<AuditEntry[]>(['audit', 'list']);
  const pendingApproval = (gatewayId: string) =>
    eventually(async () =>
      (await hubBox.json<Approval[]>(['approvals', 'list', '--status', 'pending'])).find(
        (a) => a.gatewayId === gatewayId,
      ),
    );
  const assignment = (id: string) => hubBox.json<Assignment>(['assignments', 'show', id]);

  let first: Sandbox;
  let firstGateway: Service;
  let firstId: string;

  it('trusts the first device of a fresh agent key on first use, with an audit entry', async () => {
    first = await machine();
    firstGateway = run(first);
    const ready = await firstGateway.ready<{ gateway: { id: string }; connected: boolean }>();
    firstId = ready.gateway.id;
    expect(ready.connected).toBe(true);
    const keyFile = join(first.home, 'data', 'device-key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(first.home, 'data')).mode & 0o777).toBe(0o700);
    expect((await hubBox.json<Assignment>(['assign', 'alpha', 'one', '--wait'])).result?.output).toBe(
      'echo: one',
    );
    const entry = (await audit()).find((e) => e.action === 'device_trusted_on_first_use');
    expect(entry).toMatchObject({ subject: firstId });
    const shown = await hubBox.json<GatewayDetail>(['gateways', 'show', firstId]);
    expect(shown).toMatchObject({ approval: 'trusted', connected: true });
    expect(shown.device?.fingerprint).toMatch(/^SHA256:/);
    expect(shown.agents).toEqual([expect.objectContaining({ name: 'alpha', trust: 'trusted' })]);
  });

  it('records gateway bind changes in the audit log and shows the binding on the hub', async () => {
    const workdir = join(first.home, 'bound');
    mkdirSync(workdir);
    const bound = await first.run(['gateway', 'bind', '--agent', 'alpha', '--workdir', workdir]);
    expect(bound.code).toBe(0);
    const change = await eventually(async () =>
      (await audit()).find((e) => e.action === 'binding_changed' && JSON.stringify(e.data).includes(workdir)),
    );
    expect(change.actor).toBe(`gateway:${firstId}`);
    const shown = await hubBox.json<GatewayDetail>(['gateways', 'show', firstId]);
    expect(shown.agents[0]?.binding).toEqual({ provider: 'echo', workdir, isolation: null });
  });

  it('refuses a copied gateway-session.json without the device key: it serves nothing and says why', async () => {
    expect(await firstGateway.stop('SIGINT')).toBe(0);
    const copy = await machine();
    mkdirSync(join(copy.home, 'config'), { recursive: true, mode: 0o700 });
    copyFileSync(
      join(first.home, 'config', 'gateway-session.json'),
      join(copy.home, 'config', 'gateway-session.json'),
    );
    const thief = copy.start(['gateway', 'start', '--port', '0', '--json']);
    expect((await thief.ready<{ connected: boolean }>()).connected).toBe(false);
    const refused = await eventually(async () => (await status(copy)).refused ?? undefined);
    expect(refused).toContain("this gateway's device key does not match");
    const text = await copy.run(['gateway', 'status']);
    expect(text.stdout).toContain('REFUSED by the hub');
    const queued = await hubBox.json<Assignment>(['assign', 'alpha', 'stolen']);
    await sleep(1500);
    expect((await assignment(queued.id)).state).toBe('queued');
    await thief.stop();

    // The real machine restarted: it serves at once, the queued assignment included.
    firstGateway = first.start(['gateway', 'start', '--port', '0', '--json']);
    expect((await firstGateway.ready<{ connected: boolean }>()).connected).toBe(true);
    const done = await eventually(async () => {
      const row = await assignment(queued.id);
      return row.state === 'succeeded' ? row : undefined;
    });
    expect(done.result?.output).toBe('echo: stolen');
    expect(existsSync(join(copy.home, 'data', 'device-key.pem'))).toBe(true); // its own, not the original
  });

  it('holds a second device as pending until approved, then serves without a restart', async () => {
    expect(await firstGateway.stop('SIGINT')).toBe(0);
    const second = await machine();
    const gateway = run(second);
    const ready = await gateway.ready<{ gateway: { id: string }; connected: boolean }>();
    expect(ready.connected).toBe(false);
    expect(ready.gateway.id).not.toBe(firstId);
    const approval = await pendingApproval(ready.gateway.id);
    expect(approval).toMatchObject({ kind: 'device', status: 'pending', decidedBy: null });
    expect(approval.subject).toContain('agent alpha');
    expect(approval.requestedAt).toBe(approval.createdAt);
    expect((await status(second)).pending).toContain(approval.id);
    expect((await second.run(['gateway', 'status'])).stdout).toContain('WAITING for approval');

    const queued = await hubBox.json<Assignment>(['assign', 'alpha', 'two']);
    await sleep(1000);
    expect((await assignment(queued.id)).state).toBe('queued');

    const approvedAt = Date.now();
    const decided = await hubBox.json<Approval>(['approvals', 'approve', approval.id]);
    expect(decided.status).toBe('approved');
    const done = await eventually(async () => {
      const row = await assignment(queued.id);
      return row.state === 'succeeded' ? row : undefined;
    });
    expect(Date.now() - approvedAt).toBeLessThan(5000);
    expect(done.result?.output).toBe('echo: two');
    expect((await status(second)).connected).toBe(true);
    expect(gateway.proc.exitCode).toBeNull(); // the same process: no restart

    const decidedEntry = (await audit()).find(
      (e) => e.action === 'approval_approved' && e.subject === approval.id,
    );
    expect(decidedEntry).toBeDefined();
    const listed = await hubBox.json<Approval[]>(['approvals', 'list']);
    expect(listed.find((a) => a.id === approval.id)).toMatchObject({
      status: 'approved',
      requestedAt: expect.any(String),
    });
    expect(listed.find((a) => a.id === approval.id)?.decidedBy).toBeTruthy();

    // Restarted on the same machine, it needs nothing new.
    expect(await gateway.stop('SIGINT')).toBe(0);
    const again = run(second);
    expect((await again.ready<{ connected: boolean }>()).connected).toBe(true);
    await again.stop('SIGINT');
  });

  it('tells a denied device so, and it stops trying', async () => {
    const third = await machine();
    const gateway = run(third);
    const ready = await gateway.ready<{ gateway: { id: string } }>();
    const approval = await pendingApproval(ready.gateway.id);
    const denied = await hubBox.json<Approval>(['approvals', 'deny', approval.id]);
    expect(denied.status).toBe('denied');
    const refused = await eventually(async () => (await status(third)).refused ?? undefined);
    expect(refused).toContain('denied this device');
    await sleep(1500);
    expect((await status(third)).connected).toBe(false);
    const again = await hubBox.run(['approvals', 'approve', approval.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already denied');
    await gateway.stop();
  });
});

describe('a hub with --require-approval', () => {
  const hubBox = new Sandbox();
  const box = new Sandbox();
  afterAll(async () => {
    await box.cleanup();
    await hubBox.cleanup();
  });

  it('holds even the first device of a fresh agent key until approved', async () => {
    const hub = (await startHub(hubBox, ['--require-approval'])).ready;
    const { key } = await createAgent(hubBox, 'careful');
    // `gateway connect` says the device waits, with the approval and who decides it, not "Serving".
    const connect = await box.run([
      'gateway',
      'connect',
      '--server-url',
      hub.url,
      '--provider',
      'echo',
      '--api-key',
      key,
    ]);
    expect(connect.code).toBe(0);
    expect(connect.stdout).toMatch(
      /^Pending approval: careful is not served from this device until an owner or admin approves approval (\S+): gantry approvals approve \1$/m,
    );
    expect(connect.stdout).not.toContain('Serving');
    const gateway = box.start(
      ['gateway', 'run', '--server-url', hub.url, '--provider', 'echo', '--port', '0', '--json'],
      { GANTRY_API_KEY: key },
    );
    expect((await gateway.ready<{ connected: boolean }>()).connected).toBe(false);
    const approval = await eventually(
      async () => (await hubBox.json<Approval[]>(['approvals', 'list', '--status', 'pending']))[0],
    );
    expect(approval).toMatchObject({ kind: 'device', agent: { name: 'careful' } });
    // discover shows the waiting gateway as pending, not offline.
    const reach = (await hubBox.json<AgentReach[]>(['agents', 'discover'])).find(
      (r) => r.agent.name === 'careful',
    );
    expect(reach).toMatchObject({
      reachability: 'queue-only',
      via: [expect.stringMatching(/ \(pending approval\)$/)],
    });
    expect(reach?.reason).toContain(`waits for approval ${approval.id}`);
    const audit = await hubBox.json<AuditEntry[]>(['audit', 'list']);
    expect(audit.some((e) => e.action === 'device_trusted_on_first_use')).toBe(false);
    await hubBox.json(['approvals', 'approve', approval.id]);
    const done = await hubBox.json<Assignment>(['assign', 'careful', 'hi', '--wait']);
    expect(done.result?.output).toBe('echo: hi');
    await gateway.stop();
  });
});
