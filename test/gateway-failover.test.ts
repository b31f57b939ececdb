// A gateway given several URLs of one hub system (issue 15): two hub processes on one fresh
// PostgreSQL database report one hubId; `gateway connect --hub A,B` keeps both; `gateway status`
// and `gateway hubs list` show which one it is connected to. A long run is in flight when the hub it
// is connected to is `kill -9`ed: the gateway moves to the other hub within seconds, the run goes
// on, and its result and every event reach the database once, in order. URLs of different hub
// systems are refused at connect; a URL of the list that later answers as another hub system is
// skipped (no token sent there, no refusal), and the gateway goes on with the system's other URL.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { eventually, Sandbox, type Service } from './harness.ts';
import { createAgent, startHub, type HubReady } from './fixtures.ts';
import { postgresAdmin, postgresServer } from './postgres-admin.ts';

const database = `gantry_e2e_${randomBytes(6).toString('hex')}`;
const half = 20;

interface HubView {
  url: string;
  urls: string[];
  connectedUrl: string | null;
  state: string;
}

describe('a gateway with several URLs of one hub system', () => {
  const boxA = new Sandbox();
  const boxB = new Sandbox();
  const boxOther = new Sandbox();
  const boxStranger = new Sandbox();
  const boxB2 = new Sandbox();
  const machine = new Sandbox();
  const db = `${postgresServer}/${database}`;
  let hubA: { hub: Service; ready: HubReady };
  let urlB: string;
  let hubB: Service;
  let ownerTokenFileB: string | null | undefined;
  let key: string;

  // A run that writes 20 lines, waits for the test's go (the file GO in its folder), then writes
  // 20 more and its result: the hub it is connected to is killed while it waits.
  const script = () =>
    machine.script(
      'slow.sh',
      `i=1; while [ $i -le ${half} ]; do echo "line $i"; i=$((i+1)); done
n=0; while [ ! -f ${machine.home}/GO ] && [ $n -lt 1200 ]; do sleep 0.1; n=$((n+1)); done
while [ $i -le ${2 * half} ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done
echo 'GANTRY_EVENT {"type":"result","text":"all ${2 * half} lines"}'`,
    );
  const connect = (hub: string, bin: string) =>
    machine.run([
      'gateway',
      'connect',
      '--hub',
      hub,
      '--provider',
      'generic',
      '--provider-bin',
      bin,
      '--api-key',
      key,
    ]);
  // The daemon's own status through its local API (no CLI process: timings stay honest under load).
  let localApi = '';
  const live = async () => {
    const token = readFileSync(join(machine.home, 'config', 'local-api.token'), 'utf8').trim();
    const response = await fetch(`${localApi}/api/status`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as { connectedUrl: string | null; hubs: HubView[] };
  };
  const status = () => machine.json<{ connectedUrl: string | null; hubs: HubView[] }>(['gateway', 'status']);
  // Read through hub B (both hubs keep everything in the one database), without a CLI process.
  const onB = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${urlB}${path}`, {
      headers: { authorization: `Bearer ${hubA.ready.ownerToken}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    await postgresAdmin(`CREATE DATABASE ${database}`);
    hubA = await startHub(boxA, ['--db', db]);
    hubB = boxB.start(['hub', 'start', '--port', '0', '--json', '--db', db]);
    const readyB = await hubB.ready<{ url: string; ownerTokenFile: string | null }>(60_000);
    urlB = readyB.url;
    ownerTokenFileB = readyB.ownerTokenFile;
    key = (await createAgent(boxA, 'worker')).key;
  }, 60_000);
  afterAll(async () => {
    await machine.cleanup();
    await Promise.all([boxA, boxB, boxOther, boxStranger, boxB2].map((box) => box.cleanup()));
    await postgresAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }, 60_000);

  it('refuses URLs of different hub systems at connect, saving nothing', async () => {
    const other = await startHub(boxOther);
    const refused = await connect(`${hubA.ready.url},${other.ready.url}`, script());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/are different hub systems/);
    expect(refused.stderr).toContain(other.ready.url);
    expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const listed = await machine.json<unknown[]>(['gateway', 'hubs', 'list']);
    expect(listed).toEqual([]);
  }, 120_000);

  it('connects with both URLs of one system and shows which one it is connected to', async () => {
    const [a, b] = await Promise.all(
      [hubA.ready.url, urlB].map(
        async (u) => ((await (await fetch(`${u}/v1/health`)).json()) as { hubId: string }).hubId,
      ),
    );
    expect(a).toMatch(/^hub_/);
    expect(b).toBe(a);
    // Hub B found the system hub A made: it names no owner token file it does not have.
    expect(ownerTokenFileB).toBeNull();

    const connected = await connect(`${hubA.ready.url},${urlB}/`, script());
    expect(connected.code, connected.stderr).toBe(0);
    expect(connected.stdout).toContain(`to ${hubA.ready.url}, ${urlB}`);
    const started = await machine
      .start(['gateway', 'start', '--port', '0', '--json'], { GANTRY_STOP_GRACE_MS: '300' })
      .ready<{ localApiUrl: string }>(60_000);
    localApi = started.localApiUrl;

    const shown = await eventually(async () => {
      const s = await status();
      return s.connectedUrl ? s : undefined;
    });
    expect(shown.connectedUrl).toBe(hubA.ready.url);
    expect(shown.hubs).toHaveLength(1);
    expect(shown.hubs[0]).toMatchObject({ urls: [hubA.ready.url, urlB], connectedUrl: hubA.ready.url });
    const listed = await machine.json<HubView[]>(['gateway', 'hubs', 'list']);
    expect(listed).toMatchObject([
      { url: hubA.ready.url, urls: [hubA.ready.url, urlB], connectedUrl: hubA.ready.url },
    ]);
    const text = await machine.run(['gateway', 'status']);
    expect(text.stdout).toContain(`${hubA.ready.url} (also ${urlB}) connected`);
  }, 180_000);

  it('moves to the other hub when its hub is killed, and the run in flight delivers once', async () => {
    const created = await boxA.json<Assignment>(['assign', 'worker', 'long run']);
    const events = () => onB<AssignmentEvent[]>(`/v1/assignments/${created.id}/events`);
    // The run is under way through hub A, and waits for the go.
    await eventually(async () => ((await events()).length >= half ? true : undefined), 60_000);
    await hubA.hub.stop('SIGKILL');
    const killedAt = Date.now();
    // The rest of the run's output is written while the gateway has no hub: the outbox keeps it.
    writeFileSync(join(machine.home, 'GO'), '');
    await eventually(async () => ((await live()).connectedUrl === urlB ? true : undefined), 30_000);
    const movedMs = Date.now() - killedAt;
    process.stdout.write(`gateway moved to the other hub ${movedMs} ms after kill -9 of its hub\n`);
    expect(movedMs).toBeLessThan(10_000);

    const done = await eventually(async () => {
      const a = await onB<Assignment>(`/v1/assignments/${created.id}`);
      return ['queued', 'offered', 'starting', 'running'].includes(a.state) ? undefined : a;
    }, 60_000);
    expect(done).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      result: { output: `all ${2 * half} lines` },
    });
    const all = await events();
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const output = all.filter((e) => e.type === 'output').map((e) => e.data.text);
    expect(output).toEqual(Array.from({ length: 2 * half }, (_, i) => `line ${i + 1}`));
    expect(all.filter((e) => e.type === 'result')).toHaveLength(1);
    const shown = await status();
    expect(shown.hubs[0]).toMatchObject({ state: 'connected', connectedUrl: urlB });
    expect(shown.connectedUrl).toBe(urlB);
  }, 180_000);
  it('after the move, runs, the local API and the doctor use the hub it is connected to', async () => {
    // A run spawned now gets the hub the gateway is connected to (B) as GANTRY_HUB_URL, not the first URL.
    machine.script(
      'slow.sh',
      `echo "hub=$GANTRY_HUB_URL"
echo 'GANTRY_EVENT {"type":"result","text":"told"}'`,
    );
    const response = await fetch(`${urlB}/v1/assignments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hubA.ready.ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'worker', prompt: 'where is the hub' }),
    });
    const created = (await response.json()) as Assignment;
    const done = await eventually(async () => {
      const a = await onB<Assignment>(`/v1/assignments/${created.id}`);
      return a.state === 'succeeded' ? a : undefined;
    }, 60_000);
    expect(done.result?.output).toBe('told');
    const lines = (await onB<AssignmentEvent[]>(`/v1/assignments/${created.id}/events`))
      .filter((e) => e.type === 'output')
      .map((e) => e.data.text);
    expect(lines).toEqual([`hub=${urlB}`]);

    // The daemon's local API calls the hub through B: a folder registration reaches the hub.
    const token = readFileSync(join(machine.home, 'config', 'local-api.token'), 'utf8').trim();
    const registered = await fetch(`${localApi}/api/local/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'in-a-folder', workdir: machine.home }),
    });
    expect(registered.status, await registered.clone().text()).toBeLessThan(300);
    expect(await registered.json()).toMatchObject({ status: 'pending', hubUrl: hubA.ready.url });

    // The doctor checks hub B, the one it is connected to, which answers (A is dead).
    const doctor = await machine.run(['gateway', 'doctor', '--port', '0', '--json']);
    const { checks } = JSON.parse(doctor.stdout) as {
      checks: { name: string; status: string; detail: string }[];
    };
    expect(checks.find((c) => c.name === 'hub reachable')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(`${urlB} answers`) as unknown,
    });
    expect(checks.find((c) => c.name === 'gateway token')).toMatchObject({ status: 'ok' });
    // The CLI given both URLs (as the gateway takes them) goes on to B when A cannot be reached.
    const listed = await machine.run([
      'agents',
      'list',
      '--json',
      '--hub',
      `${hubA.ready.url},${urlB}`,
      '--token',
      hubA.ready.ownerToken,
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'worker' })]),
    );
    // A, one of its two URLs, does not answer: a warning, not an error.
    expect(checks.find((c) => c.name === 'hub urls')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining(`${hubA.ready.url} does not answer`) as unknown,
    });
  }, 180_000);

  it('skips a URL that now answers as another hub system, sends it nothing, and is not refused', async () => {
    // Hub A is dead; a hub of another system (its own SQLite) starts on A's address, then B dies too.
    const portA = new URL(hubA.ready.url).port;
    const stranger = await startHub(boxStranger, ['--port', portA]);
    expect(stranger.ready.url).toBe(hubA.ready.url);
    await hubB.stop('SIGKILL');
    // The daemon's last error says why it is not connected: A's address is another system, B refuses.
    const seen: string[] = [];
    const skipped = await eventually(async () => {
      const s = (await live()) as Awaited<ReturnType<typeof live>> & {
        lastError: { message: string } | null;
        hubs: (HubView & { refused: string | null })[];
      };
      if (s.lastError && !seen.includes(s.lastError.message)) seen.push(s.lastError.message);
      const other = seen.find((m) => m.includes('another hub system'));
      return other && seen.some((m) => m.startsWith('cannot connect to the hub')) ? { s, other } : undefined;
    }, 60_000);
    expect(skipped.other).toContain(`${hubA.ready.url} answers as hub system`);
    expect(skipped.s.hubs[0]).toMatchObject({ refused: null, connectedUrl: null });
    // The stranger never saw this gateway: no hello, no token exchange.
    const strangerGateways = await boxStranger.json<unknown[]>(['gateways', 'list']);
    expect(strangerGateways).toEqual([]);
    // A hub of the gateway's own system comes back on B's address: the gateway connects there.
    const portB = new URL(urlB).port;
    await boxB2.start(['hub', 'start', '--port', portB, '--json', '--db', db]).ready(60_000);
    await eventually(async () => ((await live()).connectedUrl === urlB ? true : undefined), 90_000);
    const shown = await status();
    expect(shown.hubs[0]).toMatchObject({ state: 'connected', connectedUrl: urlB });
    // The doctor names the URL of the other system, and the URLs to keep.
    const doctor = await machine.run(['gateway', 'doctor', '--port', '0', '--json']);
    expect(doctor.code).toBe(1);
    const { checks } = JSON.parse(doctor.stdout) as {
      checks: { name: string; status: string; detail: string; fix: string | null }[];
    };
    expect(checks.find((c) => c.name === 'hub urls')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining(`${hubA.ready.url} answers as hub system`) as unknown,
      fix: expect.stringContaining(`--hub ${urlB}`) as unknown,
    });
  }, 240_000);
});
