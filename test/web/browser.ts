/**
 * Real headless Chromium (Debian's) driven by playwright-core, each browser with a fresh profile,
 * and a recording proxy in front of the hub so a test sees every request the browser makes (its
 * tabs and its SharedWorker alike), as a user would in the network panel.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { beforeEach } from 'vitest';

export const chromiumPath = process.env.GANTRY_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(chromiumPath);

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function openBrowser(
  options: { width?: number; height?: number; dark?: boolean; init?: string } = {},
): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'gantry-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.dark ? 'dark' : 'light',
  });
  // A step that hangs fails on its own, naming itself, well before the test's 30 s run out.
  context.setDefaultTimeout(10_000);
  if (options.init) await context.addInitScript(options.init);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * When a test fails, prints where the page was and what it showed: a run that failed in CI then
 * says whether the page was loading, showing an error, or somewhere else.
 */
export function showPageOnFailure(page: () => Page | undefined, more?: () => string): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(async () => {
      if (more) console.error(more());
      const current = page();
      if (!current || current.isClosed()) return;
      const text = await current
        .evaluate('document.body ? document.body.innerText : ""')
        .catch((err: unknown) => `(unreadable: ${String(err)})`);
      console.error(`page at ${current.url()} showed:\n${String(text).slice(0, 2_000)}`);
    });
  });
}

/** Signs in on the sign-in page with a token, and waits for the dashboard. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The navigation is there (hidden behind Menu on a phone) once the dashboard runs, shortcuts and all.
  await page.locator('nav#nav').waitFor({ state: 'attached' });
}

export interface Recorded {
  method: string;
  path: string;
  at: number;
  /** Still open (a stream). */
  open: boolean;
  lastEventId: string | undefined;
}

export interface Proxy {
  url: string;
  requests: Recorded[];
  /** Cuts every open connection and refuses new ones (the network is gone) until `reconnect`. */
  disconnect(): void;
  reconnect(): void;
  close(): Promise<void>;
}

/** A reverse proxy on 127.0.0.1, port 0, that records every request it forwards. */
export async function recordingProxy(target: string): Promise<Proxy> {
  const to = new URL(target);
  const requests: Recorded[] = [];
  let down = false;
  const server: Server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const entry: Recorded = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      at: Date.now(),
      open: true,
      lastEventId: req.headers['last-event-id'] as string | undefined,
    };
    requests.push(entry);
    const upstream = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
        // A connection of its own per request: reusing an idle keep-alive socket the hub is just
        // closing fails the request with ECONNRESET, which the browser then saw as an empty
        // response (a page stuck on "Something went wrong", once in a few loaded runs).
        agent: false,
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
        reply.on('end', () => (entry.open = false));
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      entry.open = false;
      upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    disconnect() {
      down = true;
      server.closeAllConnections();
    },
    reconnect() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits until `check` passes (it throws until then), polling; the last failure is the error. */
export async function until(check: () => Promise<void> | void, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
