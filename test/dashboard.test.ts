/**
 * The dashboard from the CLI (issue 13): `hub start` and `up` print its address (the public URL when
 * given), `gantry dashboard` prints a one-time sign-in link and opens a browser only where one can
 * show, `--tls-cert/--tls-key` serve https, and every mistake in those flags is a clear error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubReady } from './fixtures.ts';
import { eventually, Sandbox } from './harness.ts';

describe('gantry dashboard', () => {
  const box = new Sandbox();
  let ready: HubReady & { dashboard: string };

  beforeAll(async () => {
    ready = (await startHub(box)).ready as typeof ready;
  });
  afterAll(() => box.cleanup());

  it('hub start prints the dashboard address', () => {
    expect(ready.dashboard).toBe(`${ready.url}/`);
  });

  it('prints a one-time link that signs a browser in once', async () => {
    const link = await box.json<{ url: string; expiresAt: number; opened: boolean }>([
      'dashboard',
      '--no-open',
    ]);
    expect(link.url).toMatch(new RegExp(`^${ready.url}/signin#code=[\\w-]+$`));
    expect(link.opened).toBe(false);
    expect(link.expiresAt - Date.now()).toBeGreaterThan(50_000);
    expect(link.expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
    const code = link.url.split('#code=')[1];
    const signIn = () =>
      fetch(`${ready.url}/v1/web/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
    const first = await signIn();
    expect(first.status).toBe(200);
    expect(first.headers.getSetCookie().join()).toMatch(/gantry_session=.*HttpOnly/i);
    expect((await signIn()).status).toBe(401);

    const text = await box.run(['dashboard', '--no-open']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/works once, for \d+ s/);
    expect(text.stdout).toContain(`${ready.url}/signin#code=`);
  });

  it('opens the link with xdg-open where a display is, and never fails where none is', async () => {
    const record = join(box.home, 'opened.txt');
    mkdirSync(join(box.home, 'bin'));
    box.script('bin/xdg-open', `echo "$1" > ${record}`);
    const path = `${join(box.home, 'bin')}:${process.env.PATH}`;
    const shown = await box.run(['dashboard'], { PATH: path, DISPLAY: ':99', WAYLAND_DISPLAY: undefined });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Opening it in your browser.');
    const url = shown.stdout.match(/(http\S+#code=\S+)/)?.[1];
    const opened = await eventually(async () =>
      existsSync(record) ? readFileSync(record, 'utf8').trim() : undefined,
    );
    expect(opened).toBe(url);

    // No display (a server, SSH): the link is printed, nothing is opened, no error.
    const headless = await box.run(['dashboard', '--json'], {
      PATH: path,
      DISPLAY: undefined,
      WAYLAND_DISPLAY: undefined,
    });
    expect(headless.code).toBe(0);
    expect(JSON.parse(headless.stdout)).toMatchObject({ opened: false });
    // A display but no opener on PATH: the same.
    const none = await box.run(['dashboard'], { PATH: '/nonexistent', DISPLAY: ':99' });
    expect(none.code).toBe(0);
    expect(none.stdout).not.toContain('Opening');
  });

  it('refuses an agent key with a clear message', async () => {
    const agent = await box.json<{ key: string }>(['agents', 'create', 'dash-agent']);
    const refused = await box.run(['dashboard', '--no-open'], { GANTRY_TOKEN: agent.key });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('only a user can open the dashboard');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('hub web settings', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it('prints the public URL as the dashboard and puts it in sign-in links (flag or GANTRY_PUBLIC_URL)', async () => {
    const flag = box.start(
      ['hub', 'start', '--port', '0', '--json', '--public-url', 'https://gantry.example.test/'],
      {
        GANTRY_SIGNIN_LINK_TTL_MS: '5000',
      },
    );
    const ready = await flag.ready<HubReady & { dashboard: string }>();
    expect(ready.dashboard).toBe('https://gantry.example.test/');
    const link = await box.json<{ url: string; expiresAt: number }>([
      'dashboard',
      '--no-open',
      '--hub',
      ready.url,
      '--token',
      ready.ownerToken,
    ]);
    expect(link.url).toMatch(/^https:\/\/gantry\.example\.test\/signin#code=/);
    expect(link.expiresAt - Date.now()).toBeLessThanOrEqual(5000);
    await flag.stop();

    const other = new Sandbox();
    try {
      const env = other.start(['hub', 'start', '--port', '0'], {
        GANTRY_PUBLIC_URL: 'https://env.example.test',
      });
      await eventually(async () => (env.stdout.includes('dashboard:') ? true : undefined));
      expect(env.stdout).toContain('dashboard: https://env.example.test/');
    } finally {
      await other.cleanup();
    }
  });

  it('serves https with --tls-cert and --tls-key', async () => {
    const { cert, key } = selfSigned(box.home);
    const hub = box.start(['hub', 'start', '--port', '0', '--json', '--tls-cert', cert, '--tls-key', key]);
    const ready = await hub.ready<HubReady & { dashboard: string }>();
    expect(ready.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.dashboard).toBe(`${ready.url}/`);
    // The CLI trusts the certificate the way any Node program does: NODE_EXTRA_CA_CERTS.
    const me = await box.json<{ principal: { name: string } }>(
      [
        'whoami',
        '--hub',
        ready.url,
        '--token',
        readFileSync(join(box.home, 'data', 'owner.token'), 'utf8').trim(),
      ],
      { NODE_EXTRA_CA_CERTS: cert },
    );
    expect(me.principal.name).toBe('owner');
    await hub.stop();
  });

  it('runs `up` over https: the local gateway connects over wss and an assignment runs', async () => {
    const other = new Sandbox();
    try {
      const { cert, key } = selfSigned(other.home);
      const untrusted = await other.run([
        'up',
        '--port',
        '0',
        '--gateway-port',
        '0',
        '--tls-cert',
        cert,
        '--tls-key',
        key,
      ]);
      expect(untrusted.code).toBe(5);
      expect(untrusted.stderr).toContain('a TLS certificate this machine does not trust');
      expect(untrusted.stderr).toContain('NODE_EXTRA_CA_CERTS');

      const trust = { NODE_EXTRA_CA_CERTS: cert };
      const up = other.start(
        ['up', '--port', '0', '--gateway-port', '0', '--json', '--tls-cert', cert, '--tls-key', key],
        trust,
      );
      const ready = await up.ready<{ hub: { url: string; dashboard: string } }>();
      expect(ready.hub.url).toMatch(/^https:/);
      expect(ready.hub.dashboard).toBe(`${ready.hub.url}/`);
      const done = await other.json<{ state: string; result: { output: string } }>(
        ['assign', 'echo', 'over tls', '--wait'],
        trust,
      );
      expect(done).toMatchObject({ state: 'succeeded', result: { output: 'echo: over tls' } });
    } finally {
      await other.cleanup();
    }
  });

  it('answers every mistake in these flags with a message and exit code 2', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--public-url', 'ftp://x.example'], {}, /--public-url must be http:\/\/ or https:\/\//],
      [['--public-url', 'https://x.example/gantry'], {}, /not under a path/],
      [['--public-url', 'not a url'], {}, /is not a URL/],
      [[], { GANTRY_PUBLIC_URL: 'nope' }, /is not a URL/],
      [['--tls-cert', '/nonexistent/cert.pem'], {}, /--tls-cert and --tls-key go together/],
      [['--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'], {}, /cannot read --tls-cert/],
      [[], { GANTRY_SIGNIN_LINK_TTL_MS: 'soon' }, /GANTRY_SIGNIN_LINK_TTL_MS/],
    ];
    const notPem = box.script('not.pem', 'echo');
    cases.push([['--tls-cert', notPem, '--tls-key', notPem], {}, /cannot serve TLS/]);
    for (const [args, env, message] of cases) {
      const result = await box.run(['hub', 'start', '--port', '0', ...args], env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

/** A self-signed certificate for 127.0.0.1, made the way a user would (openssl). */
function selfSigned(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]),
    { stdio: 'ignore' },
  );
  return { cert, key };
}
