/**
 * The hub serving the dashboard (issue 13): a fixture build stands in for packages/web/dist. The
 * CSP and headers on `/`, client routing, long-cached hashed assets, pre-compressed files, the page
 * a hub without a build answers, and https (a self-signed certificate made with openssl) carrying
 * the API, an SSE stream with the session cookie and the gateway WebSocket.
 */
import { execFileSync } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startHub, type HubOptions, type RunningHub } from '../src/server.ts';

const csp =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const indexHtml =
  '<!doctype html><html><head><script type="module" src="/assets/app-4f3a9c1e.js"></script></head><body><div id="root"></div></body></html>\n';
const appJs = `console.log(${JSON.stringify('x'.repeat(2000))});\n`;

let dir: string;
let webRoot: string;
const hubs: RunningHub[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-web-static-'));
  webRoot = join(dir, 'dist');
  mkdirSync(join(webRoot, 'assets'), { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), indexHtml);
  writeFileSync(join(webRoot, 'assets', 'app-4f3a9c1e.js'), appJs);
  writeFileSync(join(webRoot, 'assets', 'app-4f3a9c1e.js.br'), brotliCompressSync(appJs));
  writeFileSync(join(webRoot, 'assets', 'app-4f3a9c1e.js.gz'), gzipSync(appJs));
  writeFileSync(join(webRoot, 'manifest.webmanifest'), '{"name":"Gantry"}');
});
afterAll(async () => {
  for (const hub of hubs) await hub.close();
  await rm(dir, { recursive: true, force: true });
});

async function hubWith(options: Partial<HubOptions>, name = `hub-${hubs.length}`): Promise<RunningHub> {
  const data = join(dir, name);
  const hub = await startHub({
    host: '127.0.0.1',
    port: 0,
    db: join(data, 'hub.db'),
    dataDir: data,
    ...options,
  });
  hubs.push(hub);
  return hub;
}

/** A raw GET: the bytes as sent (no decompression), status and headers. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard at /', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await hubWith({ webRoot });
  });

  it('serves index.html with a strict CSP, nosniff, no referrer and no-cache', async () => {
    const res = await get(`${hub.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body.toString()).toBe(indexHtml);
    expect(res.headers['content-security-policy']).toBe(csp);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(hub.dashboardUrl).toBe(`${hub.url}/`);
  });

  it('answers every page path with index.html (client routing), and unknown files and API paths with 404', async () => {
    for (const path of ['/agents', '/assignments/asg_0123456789abcdef', '/signin', '/settings/tokens']) {
      const res = await get(`${hub.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.body.toString()).toBe(indexHtml);
      expect(res.headers['content-security-policy']).toBe(csp);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    expect((await get(`${hub.url}/assets/gone-12345678.js`)).status).toBe(404);
    expect((await get(`${hub.url}/favicon.ico`)).status).toBe(404);
    // Nothing outside the build is reachable.
    for (const path of [
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2fhub.db',
      '/..%5c..%5cetc%5cpasswd',
    ])
      expect((await get(`${hub.url}${path}`)).body.toString()).not.toMatch(/root:|SQLite/);
    const head = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${hub.url}/`, { method: 'HEAD' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(head).toBe(200);
    const api = await get(`${hub.url}/v1/nothing-here`, {
      authorization: `Bearer ${hub.bootstrap.ownerToken}`,
    });
    expect(api.status).toBe(404);
    expect(JSON.parse(api.body.toString())).toMatchObject({ error: { code: 'not_found' } });
    const health = await get(`${hub.url}/v1/health`);
    expect(JSON.parse(health.body.toString())).toMatchObject({ ok: true });
  });

  it('keeps hashed assets a year, and serves the pre-compressed file the browser accepts', async () => {
    const plain = await get(`${hub.url}/assets/app-4f3a9c1e.js`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toMatch(/javascript/);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(appJs);

    const br = await get(`${hub.url}/assets/app-4f3a9c1e.js`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(br.body.equals(readFileSync(join(webRoot, 'assets', 'app-4f3a9c1e.js.br')))).toBe(true);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    const gz = await get(`${hub.url}/assets/app-4f3a9c1e.js`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.body.equals(readFileSync(join(webRoot, 'assets', 'app-4f3a9c1e.js.gz')))).toBe(true);

    const manifest = await get(`${hub.url}/manifest.webmanifest`);
    expect(manifest.headers['content-type']).toMatch(/^application\/manifest\+json/);
    expect(manifest.headers['cache-control']).toBe('no-cache');
  });
});

describe('a hub without a dashboard build', () => {
  it('answers / with a text page saying how to build it, not a JSON 404', async () => {
    for (const hub of [await hubWith({ webRoot: join(dir, 'no-such-dist') }), await hubWith({})]) {
      const res = await get(`${hub.url}/`);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body.toString()).toBe('the dashboard is not built: run npm run build\n');
      expect((await get(`${hub.url}/agents`)).body.toString()).toContain('not built');
    }
  });
});

describe('https', () => {
  let hub: RunningHub;
  beforeAll(async () => {
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
    hub = await hubWith({ webRoot, tls: { cert: readFileSync(cert), key: readFileSync(key) } }, 'tls');
  });

  it('serves the API and the dashboard over TLS, with a Secure session cookie', async () => {
    expect(hub.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(hub.dashboardUrl).toBe(`${hub.url}/`);
    const page = await get(`${hub.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(csp);
    const health = await get(`${hub.url}/v1/health`);
    expect(JSON.parse(health.body.toString())).toMatchObject({ ok: true });

    const cookie = await signIn(hub);
    expect(cookie.attributes).toContain('secure');
  });

  it('carries an SSE stream and the gateway WebSocket', async () => {
    const { cookie } = await signIn(hub);
    const events = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        `${hub.url}/v1/events`,
        { headers: { cookie, accept: 'text/event-stream' }, rejectUnauthorized: false },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes('event: ready')) {
              req.destroy();
              resolve(text);
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(events).toMatch(/id: \d+\nevent: ready/);

    const ws = new WebSocket(`${hub.url.replace('https:', 'wss:')}/v1/gateway/ws`, {
      rejectUnauthorized: false,
    });
    const first = await new Promise<{ t: string }>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as { t: string }));
      ws.once('error', reject);
    });
    ws.close();
    expect(first.t).toBe('welcome');
  });

  it('refuses a certificate and key that do not make a TLS server, with a clear error', async () => {
    await expect(
      hubWith({ tls: { cert: 'not a certificate', key: 'not a key' } }, 'bad-tls'),
    ).rejects.toThrow(/cannot serve TLS/);
  });
});

async function signIn(hub: RunningHub): Promise<{ cookie: string; attributes: string[] }> {
  const body = JSON.stringify({ token: hub.bootstrap.ownerToken });
  const setCookie = await new Promise<string[]>((resolve, reject) => {
    const req = httpsRequest(
      `${hub.url}/v1/web/session`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.headers['set-cookie'] ?? []);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  const line = setCookie.find((c) => c.startsWith('gantry_session=')) ?? '';
  return { cookie: line.split(';')[0] ?? '', attributes: line.split(';').map((a) => a.trim().toLowerCase()) };
}
