// Short-lived access tokens and `gantry auth doctor`, through a real hub and CLI processes:
// `POST /v1/auth/exchange` mints a JWT that works until its long-lived token is revoked or expires,
// a tampered one is refused, the key survives a restart; the CLI caches its access token (0600),
// renews it, sends the long-lived token only on the exchange, and falls back on a hub without the
// route; the doctor names the credential's source and reports problems with exit 1.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, startHub, type HubReady } from './fixtures.ts';
import { Sandbox, type Service } from './harness.ts';

interface AccessToken {
  accessToken: string;
  expiresAt: number;
  tokenId: string;
}
interface CacheFile {
  entries: Record<string, AccessToken & { tokenHash: string }>;
}
interface Doctor {
  healthy: boolean;
  credential: { source: string; token: string | null; tokenId: string | null; kind: string | null };
  hub: { url: string; source: string; reachable: boolean };
  principal: { kind: string; name: string } | null;
  workspace: { name: string } | null;
  accessToken: { state: string };
  problems: { code: string; severity: string; message: string }[];
}

let box: Sandbox;
let hub: HubReady;
let hubService: Service;
let bot: { id: string; key: string };

beforeAll(async () => {
  box = new Sandbox();
  ({ hub: hubService, ready: hub } = await startHub(box));
  bot = await createAgent(box, 'bot');
});
afterAll(() => box.cleanup());

const cacheFile = () => join(box.home, 'config', 'access-token.json');
const readCache = () => JSON.parse(readFileSync(cacheFile(), 'utf8')) as CacheFile;
const idOf = (token: string) => /^gnt_[uag]_([a-z0-9_]+)\./.exec(token)?.[1] ?? '';

async function exchange(token: string): Promise<Response> {
  return fetch(`${hub.url}/v1/auth/exchange`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
}
async function me(token: string): Promise<Response> {
  return fetch(`${hub.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
}
/** Changes a token row the way a revocation or an expiry would (the hub re-reads it on every use). */
function updateToken(id: string, set: 'revoked_at' | 'expires_at', value: number | null) {
  const db = new Database(join(box.home, 'data', 'hub.db'));
  try {
    db.prepare(`update tokens set ${set} = ? where id = ?`).run(value, id);
  } finally {
    db.close();
  }
}
async function doctor(args: string[] = [], env: Record<string, string | undefined> = {}) {
  const result = await box.run(['auth', 'doctor', '--json', ...args], env);
  return { code: result.code, report: JSON.parse(result.stdout) as Doctor, stderr: result.stderr };
}

/** A loopback proxy in front of the hub that records which bearer went to which path. */
async function recordingProxy(options: { noExchange?: boolean } = {}) {
  const seen: { path: string; bearer: string }[] = [];
  const target = new URL(hub.url);
  const server: Server = createServer((req, res) => {
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    seen.push({ path: req.url ?? '', bearer });
    if (options.noExchange && req.url === '/v1/auth/exchange') {
      // What a hub from before the exchange route answers.
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'no route POST /v1/auth/exchange' } }));
      return;
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('POST /v1/auth/exchange', () => {
  it('returns a 15-minute JWT that acts as the token it was exchanged for', async () => {
    const response = await exchange(hub.ownerToken);
    expect(response.status).toBe(200);
    const body = (await response.json()) as AccessToken;
    expect(body.accessToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(body.tokenId).toBe(idOf(hub.ownerToken));
    expect(body.expiresAt - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    const who = await me(body.accessToken);
    expect(who.status).toBe(200);
    expect(((await who.json()) as { principal: { name: string } }).principal.name).toBe('owner');
    // The long-lived token keeps working directly, as scripts and MCP clients use it.
    expect((await me(hub.ownerToken)).status).toBe(200);
  });

  it('refuses to renew an access token with itself, and refuses a missing token', async () => {
    const { accessToken } = (await (await exchange(hub.ownerToken)).json()) as AccessToken;
    const again = await exchange(accessToken);
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/long-lived/);
    expect((await fetch(`${hub.url}/v1/auth/exchange`, { method: 'POST' })).status).toBe(401);
  });

  it('refuses a tampered or foreign JWT with 401', async () => {
    const { accessToken } = (await (await exchange(bot.key)).json()) as AccessToken;
    const [header, payload, signature] = accessToken.split('.') as [string, string, string];
    // The same signature over claims that say "owner".
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, kind: 'user' })).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.x`;
    for (const token of [`${header}.${forged}.${signature}`, `${header}.${payload}.${flipped}`, unsigned]) {
      const response = await me(token);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    expect((await me(accessToken)).status).toBe(200);
  });

  it('requires exp and iat, a lifetime of at most 15 minutes and an iat not in the future (401)', async () => {
    const { accessToken } = (await (await exchange(bot.key)).json()) as AccessToken;
    const claims = JSON.parse(
      Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString(),
    ) as Record<string, unknown>;
    // Signed with the hub's own key, read from its store, as a hub sharing the database would.
    const db = new Database(join(box.home, 'data', 'hub.db'), { readonly: true });
    const { value } = db.prepare(`select value from meta where key = 'jwt_signing_key'`).get() as {
      value: string;
    };
    db.close();
    const key = Buffer.from(value, 'base64url');
    const now = Math.floor(Date.now() / 1000);
    const sign = (times: { iat?: number; exp?: number }) => {
      const jwt = new SignJWT({ kind: claims.kind, ws: claims.ws, tid: claims.tid })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(claims.iss as string)
        .setSubject(claims.sub as string);
      if (times.iat !== undefined) jwt.setIssuedAt(times.iat);
      if (times.exp !== undefined) jwt.setExpirationTime(times.exp);
      return jwt.sign(key);
    };
    // The same claims with sound times work: what is refused below is refused for its times.
    expect((await me(await sign({ iat: now, exp: now + 900 }))).status).toBe(200);
    expect((await me(await sign({ iat: now + 30, exp: now + 600 }))).status).toBe(200);
    const refused = {
      'no exp': { iat: now },
      'no iat': { exp: now + 600 },
      'a 16-minute lifetime': { iat: now - 60, exp: now + 900 },
      'a year-long lifetime': { iat: now, exp: now + 365 * 86_400 },
      'an iat 5 minutes ahead': { iat: now + 300, exp: now + 600 },
    };
    for (const [what, times] of Object.entries(refused)) {
      const response = await me(await sign(times));
      expect(response.status, what).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code, what).toBe('unauthorized');
    }
  });

  it('ends with its long-lived token: refused once that token is revoked or expired', async () => {
    const temp = await createAgent(box, 'short-lived');
    const { accessToken } = (await (await exchange(temp.key)).json()) as AccessToken;
    expect((await me(accessToken)).status).toBe(200);
    updateToken(idOf(temp.key), 'expires_at', Date.now() - 1000);
    const expired = await me(accessToken);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
    updateToken(idOf(temp.key), 'expires_at', null);
    expect((await me(accessToken)).status).toBe(200);
    updateToken(idOf(temp.key), 'revoked_at', Date.now());
    expect((await me(accessToken)).status).toBe(401);
    expect((await me(temp.key)).status).toBe(401);
    expect((await exchange(temp.key)).status).toBe(401);
  });
});

describe('the CLI', () => {
  it('sends the long-lived token only on the exchange, and caches the access token (0600)', async () => {
    const proxy = await recordingProxy();
    try {
      for (let i = 0; i < 3; i++) {
        const result = await box.run(['agents', 'list', '--json', '--hub', proxy.url]);
        expect(result.code, result.stderr).toBe(0);
      }
      const longLived = proxy.seen.filter((s) => s.bearer === hub.ownerToken).map((s) => s.path);
      expect(longLived).toEqual(['/v1/auth/exchange']);
      const rest = proxy.seen.filter((s) => s.path !== '/v1/auth/exchange');
      expect(rest).toHaveLength(3);
      expect(new Set(rest.map((s) => s.bearer)).size).toBe(1);
      expect(rest[0]?.bearer).toMatch(/^eyJ/);

      expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
      const raw = readFileSync(cacheFile(), 'utf8');
      expect(raw).not.toContain(hub.ownerToken.split('.')[1]);
      const entry = readCache().entries[`${proxy.url} ${idOf(hub.ownerToken)}`];
      expect(entry?.accessToken).toBe(rest[0]?.bearer);
    } finally {
      await proxy.close();
    }
  });

  it('renews the access token when less than a minute is left, and replaces one the hub refuses', async () => {
    await box.run(['agents', 'list', '--json']);
    const key = `${hub.url} ${idOf(hub.ownerToken)}`;
    const cache = readCache();
    const before = cache.entries[key];
    expect(before).toBeDefined();
    // Nearly expired: the next command exchanges again.
    cache.entries[key] = { ...before!, expiresAt: Date.now() + 30_000 };
    writeFileSync(cacheFile(), JSON.stringify(cache));
    expect((await box.run(['agents', 'list', '--json'])).code).toBe(0);
    const renewed = readCache().entries[key];
    expect(renewed?.expiresAt).toBeGreaterThan(Date.now() + 14 * 60_000);

    // Still "valid" by the clock but refused by the hub: one retry with a fresh one.
    const stale = readCache();
    stale.entries[key] = { ...renewed!, accessToken: `${renewed!.accessToken.slice(0, -4)}AAAA` };
    writeFileSync(cacheFile(), JSON.stringify(stale));
    const result = await box.run(['agents', 'list', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(readCache().entries[key]?.accessToken).not.toBe(stale.entries[key]?.accessToken);
  });

  it('uses the long-lived token directly with a hub that has no exchange route', async () => {
    const proxy = await recordingProxy({ noExchange: true });
    try {
      const result = await box.run(['whoami', '--json', '--hub', proxy.url]);
      expect(result.code, result.stderr).toBe(0);
      expect(proxy.seen.map((s) => s.path)).toEqual(['/v1/auth/exchange', '/v1/me']);
      expect(proxy.seen[1]?.bearer).toBe(hub.ownerToken);
    } finally {
      await proxy.close();
    }
  });

  it('never prints a token, and a refused token is the usual auth error (exit 4)', async () => {
    const result = await box.run(['agents', 'list'], {
      GANTRY_TOKEN: `gnt_u_tok_${'x'.repeat(26)}.${'y'.repeat(43)}`,
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/unknown or revoked token/);
    // The hub's own readiness line shows the first-start owner token by design (`--json`): not a log.
    const hubLog = hubService.stdout.split('\n').slice(1).join('\n') + hubService.stderr;
    const all = `${result.stdout}${result.stderr}${hubLog}`;
    expect(all).not.toContain(hub.ownerToken.split('.')[1]);
    expect(all).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });
});

describe('gantry auth doctor', () => {
  it('reports the login as the source when nothing overrides it', async () => {
    const { code, report } = await doctor();
    expect(code).toBe(0);
    expect(report.healthy).toBe(true);
    expect(report.credential).toMatchObject({ source: 'login', kind: 'user', tokenId: idOf(hub.ownerToken) });
    expect(report.hub).toMatchObject({ url: hub.url, source: 'login', reachable: true });
    expect(report.principal).toMatchObject({ kind: 'user', name: 'owner' });
    expect(report.workspace?.name).toBe('default');
    expect(report.accessToken.state).toBe('valid');
    expect(report.problems).toEqual([]);
  });

  it('names GANTRY_TOKEN and --token as the source, warns that the login is shadowed, changes nothing', async () => {
    const before = readFileSync(cacheFile(), 'utf8');
    const env = await doctor([], { GANTRY_TOKEN: bot.key });
    expect(env.code).toBe(0);
    expect(env.report.credential).toMatchObject({
      source: 'environment',
      kind: 'agent',
      tokenId: idOf(bot.key),
    });
    expect(env.report.principal).toMatchObject({ kind: 'agent', name: 'bot' });
    expect(env.report.accessToken.state).toBe('none');
    expect(env.report.problems.map((p) => [p.code, p.severity])).toEqual(
      expect.arrayContaining([
        ['login_shadowed', 'warning'],
        ['not_a_user', 'warning'],
      ]),
    );
    const flag = await doctor(['--token', bot.key]);
    expect(flag.code).toBe(0);
    expect(flag.report.credential.source).toBe('flag');
    // No exchange, no cache write.
    expect(readFileSync(cacheFile(), 'utf8')).toBe(before);
    const output = JSON.stringify([env.report, flag.report]);
    expect(output).not.toContain(bot.key.split('.')[1]);
    expect(output).not.toContain(hub.ownerToken.split('.')[1]);
  });

  it('reports a refused token, an unreachable hub and a loose file mode as problems (exit 1)', async () => {
    const revoked = await createAgent(box, 'gone');
    updateToken(idOf(revoked.key), 'revoked_at', Date.now());
    const refused = await doctor([], { GANTRY_TOKEN: revoked.key });
    expect(refused.code).toBe(1);
    expect(refused.report.healthy).toBe(false);
    expect(refused.report.principal).toBeNull();
    expect(refused.report.problems).toContainEqual(
      expect.objectContaining({ code: 'token_refused', severity: 'error' }),
    );
    expect(JSON.stringify(refused.report)).not.toContain(revoked.key.split('.')[1]);

    const away = await doctor(['--hub', 'http://127.0.0.1:9']);
    expect(away.code).toBe(1);
    expect(away.report.hub).toMatchObject({ source: 'flag', reachable: false });
    expect(away.report.problems.map((p) => p.code)).toContain('hub_unreachable');

    const userFile = join(box.home, 'config', 'user.json');
    chmodSync(userFile, 0o644);
    try {
      const loose = await doctor();
      expect(loose.code).toBe(1);
      expect(loose.report.problems).toContainEqual(
        expect.objectContaining({ code: 'loose_file_mode', message: expect.stringContaining(userFile) }),
      );
    } finally {
      chmodSync(userFile, 0o600);
    }
  });

  it('prints a readable report, without secrets', async () => {
    const result = await box.run(['auth', 'doctor']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/from your login/);
    expect(result.stdout).toMatch(/No problems found/);
    expect(result.stdout).not.toContain(hub.ownerToken.split('.')[1]);
  });
});

describe('the signing key', () => {
  it('lives in the store and survives a restart', async () => {
    const { accessToken } = (await (await exchange(hub.ownerToken)).json()) as AccessToken;
    const db = new Database(join(box.home, 'data', 'hub.db'), { readonly: true });
    const row = db.prepare(`select value from meta where key = 'jwt_signing_key'`).get();
    db.close();
    expect(row).toBeDefined();

    await hubService.stop();
    const again = box.start(['hub', 'start', '--port', '0', '--json']);
    const ready = await again.ready<{ url: string }>();
    const response = await fetch(`${ready.url}/v1/me`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(response.status).toBe(200);
    expect(existsSync(cacheFile())).toBe(true);
  });
});
