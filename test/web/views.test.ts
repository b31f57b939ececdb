/**
 * Every view of the dashboard, with real data in it, in headless Chromium: no serious or critical
 * axe-core violation and nothing the CSP blocks (light and dark, desktop and phone), no sideways scrolling at 390x844, the
 * navigation behind Menu on a phone, and the keyboard (g + letter, Mod+K, ?, j/k and a/d in Needs
 * you) — never while typing.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Chain } from '@gantry/protocol';
import { eventually, Sandbox } from '../harness.ts';
import { chromiumPath, haveChromium, openBrowser, signIn } from './browser.ts';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const views = [
  { path: '/', heading: 'Needs you' },
  { path: '/agents', heading: 'Agents' },
  { path: '/agents/echo', heading: 'echo' },
  { path: '/assignments', heading: 'Assignments' },
  { path: '/messages', heading: 'Messages' },
  { path: '/tasks', heading: 'Tasks' },
  { path: '/context', heading: 'Context' },
  { path: '/context/notes%2Frelease', heading: 'Context' },
  { path: '/activity', heading: 'Activity' },
  { path: '/settings', heading: 'Settings' },
];

interface AxeResult {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Serious and critical violations on the page as it is now, one line each. */
async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    'window.axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
  )) as AxeResult[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const recordCspViolations = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`;

describe('every view of the dashboard', () => {
  const box = new Sandbox();
  let url: string;
  let ownerToken: string;
  let assignmentPath: string;
  let threadPath: string;
  let taskPath: string;
  let chainPath: string;
  let chainListPath: string;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is missing at ${chromiumPath}: apt-get install -y chromium`);
    const up = box.start(['up', '--port', '0', '--gateway-port', '0', '--json']);
    const ready = await up.ready<{ hub: { url: string }; gateway: { id: string }; ownerTokenFile: string }>();
    url = ready.hub.url;
    ownerToken = readFileSync(ready.ownerTokenFile, 'utf8').trim();
    // Something in every view: runs (one failed), a thread, tasks, context, a user, a pending folder.
    const failer = box.script('fail.sh', 'echo "cannot do that" >&2\nexit 3');
    const add = await box.run([
      'agents',
      'add',
      'failer',
      '--template',
      'generic',
      '--gateway',
      ready.gateway.id,
      '--provider-bin',
      failer,
    ]);
    expect(add.code, add.stderr).toBe(0);
    const run = await box.json<{ id: string }>([
      'assign',
      'echo',
      'Summarise **the** release notes',
      '--wait',
    ]);
    assignmentPath = `/assignments/${run.id}`;
    await box.run(['assign', 'failer', 'Try the impossible', '--wait']);
    // A chain stopped at its limit (one run allowed, two agents asked), for Needs you and its tree.
    const stopped = await box.json<{ message: { id: string } }>([
      'send',
      '@failer @echo check the build',
      '--chain-max-runs',
      '1',
    ]);
    chainPath = `/assignments/chains/${stopped.message.id}`;
    chainListPath = `/assignments?chain=${stopped.message.id}`;
    await eventually(async () => {
      const shown = await box.run(['chains', 'show', stopped.message.id, '--json']);
      return shown.code === 0 && (JSON.parse(shown.stdout) as Chain).stopped.length > 0 ? true : undefined;
    });
    const sent = await box.json<{ message: { threadId: string } }>([
      'send',
      'Can you look at `build.sh`? @echo',
      '--wait',
    ]);
    threadPath = `/messages/${sent.message.threadId}`;
    const task = await box.json<{ id: string }>([
      'tasks',
      'create',
      'Write the release notes',
      '--priority',
      'high',
    ]);
    taskPath = `/tasks/${task.id}`;
    await box.json(['tasks', 'create', 'Plan the next sprint']);
    await box.run(['context', 'set', 'notes/release', 'ship friday']);
    await box.json(['users', 'add', 'alice', '--role', 'member']);
    const folder = join(box.home, 'scout');
    mkdirSync(folder);
    await box.json(['local', 'init', 'scout', '--workdir', folder]);
  }, 180_000);
  afterAll(() => box.cleanup());

  const allViews = () => [
    ...views,
    { path: assignmentPath, heading: 'Assignment for echo' },
    { path: threadPath, heading: 'Messages' },
    { path: taskPath, heading: 'Write the release notes' },
    { path: chainPath, heading: 'Chain' },
    { path: chainListPath, heading: 'Assignments' },
  ];

  for (const mode of [
    { name: 'desktop, light', width: 1280, height: 800, dark: false },
    { name: 'desktop, dark', width: 1280, height: 800, dark: true },
    { name: 'phone, light', width: 390, height: 844, dark: false },
  ]) {
    it(`has no serious or critical axe-core violation on any view (${mode.name})`, async () => {
      // Whatever the hub's Content-Security-Policy blocks is a defect too.
      const browser = await openBrowser({ ...mode, init: recordCspViolations });
      try {
        await signIn(browser.page, url, ownerToken);
        const found: string[] = [];
        for (const view of allViews()) {
          await browser.page.goto(`${url}${view.path}`);
          await browser.page.getByRole('heading', { name: view.heading, level: 1 }).waitFor();
          await browser.page
            .getByRole('status')
            .filter({ hasText: /^Loading/ })
            .first()
            .waitFor({ state: 'detached' });
          for (const v of await axe(browser.page)) found.push(`${view.path}: ${v}`);
          for (const v of (await browser.page.evaluate('window.__csp')) as string[])
            found.push(`${view.path}: CSP blocked ${v}`);
        }
        expect(found).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 150_000);
  }

  it('fits a 390x844 phone on every view: no sideways scrolling', async () => {
    const browser = await openBrowser({ width: 390, height: 844 });
    try {
      await signIn(browser.page, url, ownerToken);
      const wide: string[] = [];
      for (const view of allViews()) {
        await browser.page.goto(`${url}${view.path}`);
        await browser.page.getByRole('heading', { name: view.heading, level: 1 }).waitFor();
        const [scroll, client] = (await browser.page.evaluate(
          '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
        )) as [number, number];
        if (scroll > client) wide.push(`${view.path}: ${scroll}px wide in ${client}px`);
      }
      expect(wide).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('puts the navigation behind a Menu button on a phone, with targets big enough to hit', async () => {
    const browser = await openBrowser({ width: 390, height: 844 });
    const page = browser.page;
    try {
      await signIn(page, url, ownerToken);
      const nav = page.getByRole('navigation', { name: 'Main' });
      expect(await nav.isVisible()).toBe(false);
      const menu = page.getByRole('button', { name: 'Menu' });
      expect(await menu.getAttribute('aria-expanded')).toBe('false');
      await menu.click();
      expect(await menu.getAttribute('aria-expanded')).toBe('true');
      const tasks = nav.getByRole('link', { name: 'Tasks' });
      const box = await tasks.boundingBox();
      expect(box?.height).toBeGreaterThanOrEqual(44);
      await tasks.click();
      await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor();
      expect(await nav.isVisible()).toBe(false);
      const assign = (await page.getByRole('button', { name: 'Create task' }).boundingBox())?.height;
      expect(assign).toBeGreaterThanOrEqual(44);
    } finally {
      await browser.close();
    }
  });

  it('moves by keyboard: g + letter, Mod+K, ?, j/k and a/d — and never while typing', async () => {
    const browser = await openBrowser();
    const page = browser.page;
    const heading = (name: string) => page.getByRole('heading', { name, level: 1 });
    try {
      await signIn(page, url, ownerToken);
      await page.keyboard.press('g');
      await page.keyboard.press('a');
      await heading('Agents').waitFor();
      await page.keyboard.press('g');
      await page.keyboard.press(',');
      await heading('Settings').waitFor();

      // Typing in a field is typing: `g s` and `?` stay in the prompt.
      await page.keyboard.press('g');
      await page.keyboard.press('s');
      await heading('Assignments').waitFor();
      const prompt = page.getByLabel('Prompt');
      await prompt.click();
      await page.keyboard.type('g a ?');
      expect(await prompt.inputValue()).toBe('g a ?');
      expect(await heading('Assignments').isVisible()).toBe(true);
      expect(await page.getByRole('dialog').count()).toBe(0);

      // Mod+K works from anywhere, also a field, and takes you there.
      await page.keyboard.press('ControlOrMeta+k');
      const palette = page.getByRole('dialog', { name: 'Command palette' });
      await palette.waitFor();
      await page.keyboard.type('tasks');
      await page.keyboard.press('Enter');
      await heading('Tasks').waitFor();

      await page.keyboard.press('?');
      const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await help.waitFor();
      expect(await help.textContent()).toContain('Go to Activity');
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'hidden' });

      // Needs you: j/k select, a approves the selected item.
      const folder = join(box.home, 'keyed');
      mkdirSync(folder);
      const asked = await box.json<{ approvalId: string }>(['local', 'init', 'keyed', '--workdir', folder]);
      await page.keyboard.press('g');
      await page.keyboard.press('n');
      await heading('Needs you').waitFor();
      const target = page.getByRole('article', { name: 'Folder registration for keyed' });
      await target.waitFor();
      // Oldest first: the new folder is last.
      const selected = () =>
        page.locator('.needs > li[aria-current="true"] article').getAttribute('aria-label');
      const count = await page.locator('.needs > li').count();
      expect(count).toBeGreaterThanOrEqual(2);
      for (let i = 0; i < count; i++) await page.keyboard.press('j');
      expect(await selected()).toBe('Folder registration for keyed');
      await page.keyboard.press('k');
      expect(await selected()).not.toBe('Folder registration for keyed');
      await page.keyboard.press('j');
      expect(await selected()).toBe('Folder registration for keyed');
      await page.keyboard.press('a');
      await target.waitFor({ state: 'detached' });
      const approvals = await box.json<{ id: string; status: string }[]>(['approvals', 'list']);
      expect(approvals.find((a) => a.id === asked.approvalId)?.status).toBe('approved');
    } finally {
      await browser.close();
    }
  }, 90_000);
});
