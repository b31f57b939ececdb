/**
 * A tool request decided from the dashboard: the real Claude ACP adapter (against a fake model on
 * loopback) asks to run a shell command under `--permission ask`; the request shows up in an open
 * Needs you — the tool, the command, the run and who started it — and Approve lets the run go on.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import type { FakeModel } from '../fake-models/fake-model.ts';
import { createAgent, startHub } from '../fixtures.ts';
import { eventually, Sandbox } from '../harness.ts';
import {
  chromiumPath,
  haveChromium,
  openBrowser,
  showPageOnFailure,
  signIn,
  type Browser,
} from './browser.ts';

describe('a tool request in Needs you', () => {
  const box = new Sandbox();
  let fake: FakeModel;
  let workdir: string;
  let browser: Browser;
  showPageOnFailure(() => browser?.page);

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is missing at ${chromiumPath}: apt-get install -y chromium`);
    fake = await startAnthropicMessages();
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'careful');
    workdir = join(box.home, 'project');
    const home = join(box.home, 'provider-home');
    mkdirSync(workdir, { recursive: true });
    mkdirSync(home, { recursive: true });
    await box
      .start(
        [
          'gateway',
          'run',
          '--server-url',
          ready.url,
          '--provider',
          'acp',
          '--provider-bin',
          process.env.GANTRY_TEST_CLAUDE_ACP_BIN ?? 'claude-agent-acp',
          '--api-key',
          agent.key,
          '--workspace-root',
          workdir,
          '--port',
          '0',
          '--json',
        ],
        claudeEnvFor(fake, home),
      )
      .ready();
    // An agent bound to no folder runs in its own, under the workspace root.
    workdir = join(workdir, 'careful');
    browser = await openBrowser();
    await signIn(browser.page, ready.url, ready.ownerToken);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await box.cleanup();
    await fake?.close();
  });

  it('shows the tool, the command, the run and who started it, and Approve lets it run', async () => {
    const page = browser.page;
    await page.getByRole('heading', { name: 'Needs you', level: 1 }).waitFor();
    fake.script([{ kind: 'shell', command: 'touch approved.txt', then: 'Finished.' }]);
    const created = await box.json<Assignment>(['assign', 'careful', 'please run touch approved.txt']);

    const item = page.getByRole('article', { name: 'Tool permission for careful' });
    await item.waitFor({ timeout: 60_000 });
    await expect.poll(() => item.locator('pre').textContent()).toContain('touch approved.txt');
    // Who started the run comes with the run, read after the approval itself: it may show a moment later.
    await expect.poll(() => item.locator('dl').textContent()).toContain('Started byowner');
    expect(await item.locator('dl').textContent()).toContain(created.id);
    expect(existsSync(join(workdir, 'approved.txt'))).toBe(false);

    await item.getByRole('button', { name: 'Approve' }).click();
    await item.waitFor({ state: 'detached' });
    const done = await eventually(async () => {
      const a = await box.json<Assignment>(['assignments', 'show', created.id]);
      return a.state === 'succeeded' || a.state === 'failed' ? a : undefined;
    }, 60_000);
    expect(done.state).toBe('succeeded');
    expect(existsSync(join(workdir, 'approved.txt'))).toBe(true);

    // The run shows the request and who decided it.
    await page.goto(`${page.url().replace(/\/$/, '')}/assignments/${created.id}`);
    await page.getByText('approved by user').waitFor();
  }, 150_000);
});
