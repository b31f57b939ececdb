/**
 * The dashboard in real headless Chromium against a real hub and gateway (`gantry up`), through a
 * proxy that records every request the browser makes: sign in, assign work from the form and watch
 * the run arrive, a folder approval raised from the CLI showing up in Needs you and decided there,
 * markup in a message staying text, a quiet network while idle (one event stream for all tabs),
 * and a dropped connection shown and resumed without losing what happened meanwhile.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Sandbox, type Service } from '../harness.ts';
import {
  chromiumPath,
  haveChromium,
  openBrowser,
  recordingProxy,
  showPageOnFailure,
  signIn,
  until,
  type Browser,
  type Proxy,
} from './browser.ts';

describe('the dashboard in Chromium', () => {
  const box = new Sandbox();
  let proxy: Proxy;
  let browser: Browser;
  let page: Page;
  let ownerToken: string;
  let hubUrl: string;
  let up: Service | undefined;
  showPageOnFailure(
    () => page,
    () =>
      `gantry up: ${up?.proc.exitCode ?? up?.proc.signalCode ?? 'running'}; its output:\n${up?.stdout.slice(-2_000)}\n${up?.stderr.slice(-4_000)}`,
  );

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is missing at ${chromiumPath}: apt-get install -y chromium`);
    up = box.start(['up', '--port', '0', '--gateway-port', '0', '--json']);
    const ready = await up.ready<{ hub: { url: string }; ownerTokenFile: string }>();
    ownerToken = readFileSync(ready.ownerTokenFile, 'utf8').trim();
    hubUrl = ready.hub.url;
    proxy = await recordingProxy(hubUrl);
    browser = await openBrowser();
    page = browser.page;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await box.cleanup();
  });

  /** Whether the page is still the one first loaded (set a mark, read it later). */
  const mark = () => page.evaluate('window.__sameDocument = true');
  const sameDocument = () => page.evaluate('window.__sameDocument === true');

  it('signs in with a user token, and refuses an agent key saying why', async () => {
    const agent = await box.json<{ key: string }>(['agents', 'create', 'helper']);
    await page.goto(`${proxy.url}/`);
    await page.getByLabel('Token').fill(agent.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('the dashboard takes a user token (gnt_u_...)');

    await page.getByLabel('Token').fill(ownerToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
    await expect.poll(() => page.title()).toBe('Needs you · Gantry');
    await expect.poll(() => page.locator('.live-badge').textContent()).toBe('●Live');
  });

  it('assigns work from the form and shows the run as it happens, without a reload', async () => {
    await mark();
    await page.getByRole('link', { name: 'Assignments' }).click();
    await page.getByLabel('Agent').first().selectOption('echo');
    await page.getByLabel('Prompt').fill('hello from the browser');
    await page.getByRole('button', { name: 'Assign' }).click();
    await page.waitForURL(/\/assignments\/asg_/);
    const run = page.getByRole('list', { name: 'Run events' });
    await run.getByText('echo: hello from the browser').waitFor();
    await page.getByRole('region', { name: 'Result' }).getByText('echo: hello from the browser').waitFor();
    await page.locator('.page-sub').getByText('succeeded').waitFor();
    expect(await sameDocument()).toBe(true);
  });

  it('shows a folder approval raised from the CLI in Needs you, and Approve decides it', async () => {
    await page.getByRole('link', { name: /^Needs you/ }).click();
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
    await mark();
    const folder = join(box.home, 'scout-folder');
    mkdirSync(folder);
    const init = await box.json<{ status: string; approvalId: string }>([
      'local',
      'init',
      'scout',
      '--workdir',
      folder,
    ]);
    expect(init.status).toBe('pending');

    const item = page.getByRole('article', { name: 'Folder registration for scout' });
    await item.waitFor({ timeout: 5_000 });
    await expect.poll(() => item.textContent()).toContain(folder);
    await expect.poll(() => page.title()).toBe('(1) Needs you · Gantry');
    // Screen readers hear of it.
    await expect
      .poll(() => page.locator('[aria-live="polite"][aria-atomic="true"]').textContent())
      .toContain('Needs you: Folder registration for scout');

    await item.getByRole('button', { name: 'Approve' }).click();
    await item.waitFor({ state: 'detached' });
    const approvals = await box.json<{ id: string; status: string }[]>(['approvals', 'list']);
    expect(approvals.find((a) => a.id === init.approvalId)?.status).toBe('approved');
    await expect.poll(() => page.title()).toBe('Needs you · Gantry');
    expect(await sameDocument()).toBe(true);
  });

  it('shows markup in a message as text and runs none of it', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
    const body =
      'look <img src=x onerror="window.__pwned=1;alert(1)"> and <script>window.__pwned=2</script> ' +
      '[click](javascript:window.__pwned=3) <a href="javascript:alert(2)">a</a> **still bold**';
    const sent = await box.run(['send', body]);
    expect(sent.code, sent.stderr).toBe(0);

    // It arrives on its own (pushed), then opens as a thread.
    const thread = page.getByRole('link', { name: /look <img src=x onerror=/ });
    await thread.waitFor({ timeout: 5_000 });
    await thread.click();
    const message = page.getByRole('article', { name: 'Message from owner' });
    await expect
      .poll(() => message.textContent())
      .toContain('<img src=x onerror="window.__pwned=1;alert(1)">');
    expect(await message.textContent()).toContain('<script>window.__pwned=2</script>');
    expect(await message.locator('.md strong').textContent()).toBe('still bold');
    expect(await page.locator('main img, main script, main iframe').count()).toBe(0);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it('makes no requests while idle apart from the one event stream, shared by a second tab', async () => {
    await page.goto(`${proxy.url}/`);
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
    await expect.poll(() => page.locator('.live-badge').textContent()).toBe('●Live');
    const second = await browser.context.newPage();
    await second.goto(`${proxy.url}/agents`);
    await second.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    await expect.poll(() => second.locator('.live-badge').textContent()).toBe('●Live');

    // Let the pages finish loading, then watch a quiet stretch: nothing but the stream may be open or start.
    await until(() => {
      expect(proxy.requests.filter((r) => r.open && !isStream(r))).toEqual([]);
      expect(Date.now() - Math.max(...proxy.requests.map((r) => r.at))).toBeGreaterThan(500);
    });
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(proxy.requests.filter((r) => r.at >= start)).toEqual([]);
    const streams = proxy.requests.filter((r) => r.open && isStream(r));
    expect(streams).toHaveLength(1);
    await second.close();
  });

  it('without SharedWorker, elects one tab to hold the stream; another takes over when it closes', async () => {
    const own = await recordingProxy(hubUrl);
    const other = await openBrowser({ init: 'delete window.SharedWorker;' });
    try {
      await signIn(other.page, own.url, ownerToken);
      const tabs = [other.page, await other.context.newPage()];
      for (const tab of tabs) {
        await tab.goto(`${own.url}/messages`);
        await expect.poll(() => tab.locator('.live-badge').textContent()).toBe('●Live');
      }
      const openStreams = () => own.requests.filter((r) => r.open && isStream(r)).length;
      await expect.poll(openStreams).toBe(1);
      expect((await box.run(['send', 'heard by both tabs'])).code).toBe(0);
      for (const tab of tabs) await tab.getByRole('link', { name: /heard by both tabs/ }).waitFor();

      // The leader (the first tab to ask) closes: the other one takes the stream over.
      await tabs[0]?.close();
      await expect.poll(openStreams).toBe(1);
      expect((await box.run(['send', 'heard after the handover'])).code).toBe(0);
      await tabs[1]?.getByRole('link', { name: /heard after the handover/ }).waitFor();
      expect(own.requests.filter(isStream).at(-1)?.lastEventId).toMatch(/^\d+$/);
    } finally {
      await other.close();
      await own.close();
    }
  });

  it('shows the connection dropping, and resumes from where it was without missing a change', async () => {
    await page.goto(`${proxy.url}/messages`);
    await expect.poll(() => page.locator('.live-badge').textContent()).toBe('●Live');
    await mark();
    proxy.disconnect();
    try {
      await expect.poll(() => page.locator('.live-badge').textContent()).toBe('↻Reconnecting…');
      // Written while this browser is cut off from the hub.
      const sent = await box.run(['send', 'said while you were away']);
      expect(sent.code, sent.stderr).toBe(0);
    } finally {
      proxy.reconnect();
    }
    await page.getByRole('link', { name: /said while you were away/ }).waitFor({ timeout: 40_000 });
    await expect.poll(() => page.locator('.live-badge').textContent()).toBe('●Live');
    const resumed = proxy.requests.filter(isStream).at(-1);
    expect(resumed?.lastEventId).toMatch(/^\d+$/);
    expect(await sameDocument()).toBe(true);
  });

  it('says so when the hub cannot be reached at load, and Try again gets in once it can', async () => {
    await page.route('**/v1/web/session', (route) => route.abort('connectionrefused'));
    try {
      await page.goto(`${proxy.url}/`);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Something went wrong.');
    } finally {
      await page.unroute('**/v1/web/session');
    }
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
  });

  it('signs out: the session is gone and the sign-in page is back', async () => {
    await page.goto(`${proxy.url}/`);
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    const status = await page.evaluate('fetch("/v1/web/session").then((r) => r.status)');
    expect(status).toBe(401);
  });
});

function isStream(r: { path: string }): boolean {
  return r.path.startsWith('/v1/events');
}
