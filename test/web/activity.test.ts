/**
 * The Activity view with 10,000 entries, pushed while it is open: every one arrives, only the rows
 * on screen exist in the page (a virtualised list), scrolling anywhere shows the right entries,
 * and after a reload history pages in with "Load earlier".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, startHub } from '../fixtures.ts';
import { Sandbox } from '../harness.ts';
import {
  chromiumPath,
  haveChromium,
  openBrowser,
  showPageOnFailure,
  signIn,
  type Browser,
} from './browser.ts';

const total = 10_000;

describe('the Activity view at 10,000 entries', () => {
  const box = new Sandbox();
  let url: string;
  let browser: Browser;
  showPageOnFailure(() => browser?.page);

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is missing at ${chromiumPath}: apt-get install -y chromium`);
    const { ready } = await startHub(box);
    url = ready.url;
    browser = await openBrowser();
    await signIn(browser.page, url, ready.ownerToken);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await box.cleanup();
  });

  /** Posts one entry as an agent (listener events are what agents may post). */
  async function post(key: string, subject: string): Promise<void> {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'listener.tick', subject }),
    });
    if (!res.ok) throw new Error(`POST /v1/events: ${res.status} ${await res.text()}`);
  }

  /** A first entry, then `count - 2` posted 32 at a time (in no exact order), then a last one. */
  async function burst(key: string, count: number): Promise<void> {
    await post(key, 'the first entry');
    let next = 0;
    const worker = async () => {
      while (next < count - 2) await post(key, `entry ${(next += 1)}`);
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await post(key, 'the last entry');
  }

  const shownCount = async () => {
    const text = (await browser.page.locator('.page-sub').textContent()) ?? '';
    return Number(/of ([\d,]+) entries/.exec(text)?.[1]?.replace(/,/g, '') ?? 0);
  };

  it('takes them all live, and keeps only the visible rows in the page', async () => {
    const page = browser.page;
    await page.goto(`${url}/activity`);
    await page.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();
    const agent = await createAgent(box, 'ticker');
    await burst(agent.key, total);
    await expect.poll(shownCount, { timeout: 120_000 }).toBeGreaterThanOrEqual(total);

    const feed = page.getByRole('region', { name: 'Activity entries' });
    const rows = feed.locator('li.feed-row');
    // Following the newest entry: the last one is on screen.
    await feed.getByText('the last entry', { exact: true }).waitFor();
    expect(await rows.count()).toBeLessThan(60);

    // Anywhere in the list: the rows there, and still only a screenful of them.
    const height = await feed.evaluate((el) => el.scrollHeight);
    expect(height).toBeGreaterThan(total * 40);
    await feed.evaluate((el) => {
      el.scrollTop = el.scrollHeight / 2;
    });
    await expect
      .poll(() =>
        feed
          .getByText(/^entry \d+$/)
          .first()
          .textContent(),
      )
      .toMatch(/^entry (4\d{3}|5\d{3})$/);
    await feed.evaluate((el) => {
      el.scrollTop = 0;
    });
    await feed.getByText('the first entry', { exact: true }).waitFor();
    expect(await rows.count()).toBeLessThan(60);
  }, 300_000);

  it('reads recent history after a reload, and earlier entries on request', async () => {
    const page = browser.page;
    await page.reload();
    await page.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();
    await expect.poll(shownCount).toBeGreaterThanOrEqual(1000);
    const first = await shownCount();
    expect(first).toBeLessThan(total);
    await page.getByRole('button', { name: 'Load earlier' }).click();
    await expect.poll(shownCount).toBeGreaterThan(first);
  }, 60_000);
});
