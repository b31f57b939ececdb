/**
 * Issue 13, chains on the dashboard: a chain that hits its limit shows up in an open Needs you
 * without a reload — the agent not run, who started it with what, the limit — and Continue lets it
 * go on (what was stopped runs) and takes it off the list; Assignments filters by chain (a choice of
 * the chains there are), and a chain's tree shows who started what, each run linking to its
 * detail; on the tree, Dismiss leaves a stopped chain stopped and off Needs you.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { eventually, Sandbox } from '../harness.ts';
import {
  chromiumPath,
  haveChromium,
  openBrowser,
  showPageOnFailure,
  signIn,
  type Browser,
} from './browser.ts';

describe('chains on the dashboard', () => {
  const box = new Sandbox();
  let url: string;
  let browser: Browser;
  showPageOnFailure(() => browser?.page);

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is missing at ${chromiumPath}: apt-get install -y chromium`);
    const up = box.start(['up', '--port', '0', '--gateway-port', '0', '--json']);
    const ready = await up.ready<{ hub: { url: string }; gateway: { id: string }; ownerTokenFile: string }>();
    url = ready.hub.url;
    // Replies that name nobody, so the chain stops only where the test says.
    for (const name of ['checker', 'helper']) {
      const add = await box.run([
        'agents',
        'add',
        name,
        '--template',
        'generic',
        '--gateway',
        ready.gateway.id,
        '--provider-bin',
        box.script(`${name}.sh`, `echo "${name} did it"`),
      ]);
      expect(add.code, add.stderr).toBe(0);
    }
    // A run in no chain of the test's, for the chain filter to leave out.
    expect((await box.run(['assign', 'checker', 'something else', '--wait'])).code).toBe(0);
    browser = await openBrowser();
    await signIn(browser.page, url, readFileSync(ready.ownerTokenFile, 'utf8').trim());
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await box.cleanup();
  });

  it('shows a chain stopped at its limit live, and Continue runs what was stopped', async () => {
    const page = browser.page;
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
    // One run allowed, two agents asked: the second is stopped.
    const sent = await box.json<{ message: { id: string } }>([
      'send',
      '@checker @helper compare the release notes',
      '--chain-max-runs',
      '1',
    ]);
    const chainId = sent.message.id;
    const item = page.getByRole('article', { name: /^Chain stopped for (checker|helper)$/ });
    await item.waitFor({ timeout: 20_000 });
    const text = (await item.textContent()) ?? '';
    expect(text).toContain('@checker @helper compare the release notes');
    expect(text).toContain('owner with a message');
    expect(text).toContain('1 run (1 made)');
    expect(text).toContain('1 run to go on');
    const stopped = /Chain stopped for (\w+)/.exec((await item.getAttribute('aria-label')) ?? '')?.[1] ?? '';
    expect(['checker', 'helper']).toContain(stopped);

    await item.getByRole('button', { name: 'Continue' }).click();
    await item.waitFor({ state: 'detached' });
    // The stopped agent runs in the same chain; the chain waits on nobody now.
    const runs = await eventually(async () => {
      const list = await box.json<Assignment[]>(['assignments', 'list', '--chain', chainId]);
      return list.length === 2 && list.every((a) => a.state === 'succeeded') ? list : undefined;
    }, 30_000);
    expect(runs.map((r) => r.agent.name).sort()).toEqual(['checker', 'helper']);
    expect(await page.getByRole('article', { name: /^Chain stopped for/ }).count()).toBe(0);

    // Assignments, filtered by the chain: its two runs; then its tree, each run linking to its detail.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Assignments' }).click();
    await page.getByRole('heading', { name: 'Assignments', level: 1 }).waitFor();
    const rows = page.getByRole('list', { name: 'Assignments' }).getByRole('listitem');
    await eventually(async () => ((await rows.count()) > 2 ? true : undefined), 10_000);
    // The chain filter offers the chains there are, by what started them.
    const filter = page.getByLabel('Chain', { exact: true });
    await eventually(async () =>
      (await filter.locator('option').allTextContents()).includes(
        '@checker @helper compare the release notes (2 runs)',
      )
        ? true
        : undefined,
    );
    await filter.selectOption(chainId);
    await eventually(async () => ((await rows.count()) === 2 ? true : undefined), 10_000);
    expect(new URL(page.url()).searchParams.get('chain')).toBe(chainId);

    await page.getByRole('link', { name: 'Chain tree' }).click();
    await page.getByRole('heading', { name: `Chain ${chainId}`, level: 1 }).waitFor();
    const tree = page.getByRole('list', { name: 'Runs of this chain' });
    await tree.waitFor();
    const treeText = (await tree.textContent()) ?? '';
    expect(treeText).toContain('checker');
    expect(treeText).toContain('helper');
    expect(treeText).toContain('depth 1');
    expect(await page.getByText('message, started by owner · 2 of').count()).toBe(1);
    await tree.getByRole('link', { name: 'helper' }).click();
    await page.getByRole('heading', { name: 'Assignment for helper', level: 1 }).waitFor();
    // And back from a run to its chain.
    await page.getByRole('link', { name: chainId }).click();
    await page.getByRole('heading', { name: `Chain ${chainId}`, level: 1 }).waitFor();
  }, 120_000);

  it('dismisses a stopped chain from its tree: it leaves Needs you and stays stopped, and Continue still runs it', async () => {
    const page = browser.page;
    const sent = await box.json<{ message: { id: string } }>([
      'send',
      '@checker @helper read the changelog',
      '--chain-max-runs',
      '1',
    ]);
    const chainId = sent.message.id;
    await eventually(async () => {
      const list = await box.json<{ id: string }[]>(['chains', 'list']);
      return list.some((c) => c.id === chainId) ? true : undefined;
    }, 20_000);
    // From Assignments: the stopped chain says so in the filter, and its tree is a link away.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Assignments' }).click();
    const filter = page.getByLabel('Chain', { exact: true });
    await eventually(async () =>
      (await filter.locator('option').allTextContents()).includes(
        'Stopped · @checker @helper read the changelog (1 run)',
      )
        ? true
        : undefined,
    );
    await filter.selectOption(chainId);
    await page.getByRole('link', { name: 'Chain tree' }).click();
    await page.getByRole('heading', { name: `Chain ${chainId}`, level: 1 }).waitFor();

    const stopped = page.getByRole('region', { name: 'Stopped at its limit' });
    await stopped.getByText('it waits on a person').waitFor();
    expect(await stopped.getByRole('button', { name: 'Continue' }).count()).toBe(1);
    await stopped.getByRole('button', { name: 'Dismiss' }).click();
    await stopped.getByText('Dismissed: it waits on nobody.').waitFor();
    expect(await stopped.getByRole('button', { name: 'Dismiss' }).count()).toBe(0);
    expect(await box.json<{ id: string }[]>(['chains', 'list'])).toEqual([]);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Needs you' }).click();
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
    expect(await page.getByRole('article', { name: /^Chain stopped for/ }).count()).toBe(0);

    // Dismissed is not forgotten: Continue on its tree runs what was stopped.
    await page.goto(`${url}/assignments/chains/${encodeURIComponent(chainId)}`);
    await page.getByRole('heading', { name: `Chain ${chainId}`, level: 1 }).waitFor();
    await stopped.getByRole('button', { name: 'Continue' }).click();
    await eventually(async () => {
      const list = await box.json<Assignment[]>(['assignments', 'list', '--chain', chainId]);
      return list.length === 2 ? list : undefined;
    }, 30_000);
    await stopped.waitFor({ state: 'detached', timeout: 20_000 });
  }, 120_000);
});
