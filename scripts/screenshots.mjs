// Screenshots of every dashboard view, desktop (1280x800) and phone (390x844), into docs/screenshots/.
// Starts `gantry up` in a temporary GANTRY_HOME, seeds it the way a team would fill it (agents, runs,
// a failure, a folder waiting for approval, a chain stopped at its limit, threads, tasks, context), and
// drives headless Chromium.
// Needs a build (`npm run build`) and Chromium (/usr/bin/chromium or GANTRY_TEST_CHROMIUM).
//   node scripts/screenshots.mjs
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'packages/cli/bin/gantry.js');
const out = join(root, 'docs/screenshots');
const home = mkdtempSync(join(tmpdir(), 'gantry-screens-'));
const env = { ...process.env, GANTRY_HOME: home, GANTRY_LOG_LEVEL: 'warn' };
for (const name of ['GANTRY_TOKEN', 'GANTRY_HUB_URL', 'GANTRY_API_KEY', 'GANTRY_DATABASE_URL'])
  delete env[name];

function gantry(args, { mayFail = false } = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (result.status !== 0 && !mayFail)
    throw new Error(`gantry ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}
const json = (args) => JSON.parse(gantry([...args, '--json']));

function script(name, body) {
  const path = join(home, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const up = spawn(process.execPath, [cli, 'up', '--port', '0', '--gateway-port', '0', '--json'], { env });
let upOut = '';
up.stdout.on('data', (chunk) => (upOut += chunk));
const ready = await new Promise((resolve, reject) => {
  const timer = setInterval(() => {
    const line = upOut.split('\n').find((l) => l.startsWith('{'));
    if (line) {
      clearInterval(timer);
      resolve(JSON.parse(line));
    }
  }, 50);
  up.once('exit', (code) => reject(new Error(`gantry up exited ${code}`)));
});

let browser;
try {
  const url = ready.hub.url;
  const ownerToken = readFileSync(ready.ownerTokenFile, 'utf8').trim();
  const chainId = await seed(ready.gateway.id);

  browser = await chromium.launch({
    executablePath: process.env.GANTRY_TEST_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const coderRun = json(['assignments', 'list', '--agent', 'coder']).find((a) =>
    a.prompt.startsWith('Make the client'),
  );
  const thread = json(['messages', 'list']).find((m) => m.body.startsWith('Can you review'));
  const views = [
    ['needs-you', '/'],
    ['agents', '/agents'],
    ['assignments', '/assignments'],
    ['assignment', `/assignments/${coderRun.id}`],
    ['chain', `/assignments/chains/${chainId}`],
    ['messages', `/messages/${thread.threadId}`],
    ['tasks', '/tasks'],
    ['context', '/context/notes%2Frelease'],
    ['activity', '/activity'],
    ['settings', '/settings'],
  ];
  const desktop = { width: 1280, height: 800 };
  const phone = { width: 390, height: 844 };
  for (const [device, viewport, dark, only] of [
    ['desktop', desktop, false],
    ['phone', phone, false],
    // Dark mode follows the system's setting.
    ['desktop', desktop, true, ['needs-you', 'assignment']],
  ]) {
    const context = await browser.newContext({
      viewport,
      deviceScaleFactor: viewport === phone ? 2 : 1,
      colorScheme: dark ? 'dark' : 'light',
    });
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await page.getByLabel('Token').fill(ownerToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('main').waitFor();
    for (const [name, path] of views.filter(([name]) => !only || only.includes(name))) {
      await page.goto(`${url}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.locator('.live-badge').getByText('Live').waitFor();
      await page
        .getByRole('status')
        .filter({ hasText: /^Loading/ })
        .first()
        .waitFor({ state: 'detached' });
      // Fonts and the last query's render.
      await page.waitForTimeout(300);
      const file = join(out, `${name}-${device}${dark ? '-dark' : ''}.png`);
      await page.screenshot({ path: file });
      console.log(file.slice(root.length));
    }
    await context.close();
  }
} finally {
  await browser?.close();
  up.kill('SIGTERM');
  await new Promise((resolve) => up.once('exit', resolve));
  rmSync(home, { recursive: true, force: true });
}

/** A workspace a small team has used for a morning. */
async function seed(gateway) {
  const coder = script(
    'coder.sh',
    `cat <<'EOF'
GANTRY_EVENT {"type":"status","message":"reading the repository"}
GANTRY_EVENT {"type":"tool_started","id":"1","name":"shell","input":"rg -n 'retry' src"}
GANTRY_EVENT {"type":"tool_finished","id":"1","name":"shell","status":"completed","exitCode":0,"durationMs":412,"output":"src/client.ts:41:  // retry once on 503\\nsrc/client.ts:88:  for (let attempt = 0; attempt < 3; attempt++) {"}
GANTRY_EVENT {"type":"tool_started","id":"2","name":"edit","input":"src/client.ts"}
GANTRY_EVENT {"type":"tool_finished","id":"2","name":"edit","status":"completed","durationMs":35}
GANTRY_EVENT {"type":"file_changed","path":"src/client.ts","kind":"modified"}
GANTRY_EVENT {"type":"tool_started","id":"3","name":"shell","input":"npm test -- client"}
GANTRY_EVENT {"type":"tool_finished","id":"3","name":"shell","status":"completed","exitCode":0,"durationMs":5210,"output":"✓ client retries a 503 with backoff (3 tests)"}
GANTRY_EVENT {"type":"usage","inputTokens":18342,"outputTokens":1207,"costUsd":0.0412}
GANTRY_EVENT {"type":"result","text":"Retries now back off **exponentially** (250 ms doubling, at most 3 tries) instead of retrying at once.\\n\\n- \`src/client.ts\`: one \`withRetry\` helper\\n- tests cover 503 and a dropped connection"}
EOF`,
  );
  const failer = script('lint.sh', 'echo "eslint: 3 problems in src/server.ts" >&2\nexit 1');
  gantry(['agents', 'add', 'coder', '--template', 'generic', '--gateway', gateway, '--provider-bin', coder]);
  gantry([
    'agents',
    'add',
    'linter',
    '--template',
    'generic',
    '--gateway',
    gateway,
    '--provider-bin',
    failer,
  ]);
  gantry([
    'agents',
    'add',
    'nightly',
    '--template',
    'generic',
    '--gateway',
    gateway,
    '--provider-bin',
    coder,
  ]);
  gantry(['agents', 'pause', 'nightly']);
  gantry(['assign', 'echo', 'Say hello to the team', '--wait']);
  gantry(['assign', 'linter', 'Lint the server package and fix what you can', '--wait'], { mayFail: true });
  const alice = json(['users', 'add', 'alice', '--role', 'admin']);
  json(['users', 'add', 'bob', '--role', 'member']);
  gantry(['send', 'Release is on **Friday**. Notes are in `notes/release`; shout if something blocks you.']);
  gantry(['send', '@owner staging is green again after the cache fix', '--token', alice.token]);
  gantry(['send', 'Can you review the retry logic in `src/client.ts`? @echo', '--wait']);
  gantry([
    'assign',
    'coder',
    'Make the client back off between retries instead of hammering the API',
    '--wait',
  ]);
  const tasks = [
    ['Write the release notes', 'high', 'open'],
    ['Plan the next sprint', 'medium', 'open'],
    ['Migrate the CI runners to the new image', 'medium', 'in_progress'],
    ['Flaky upload test on PostgreSQL', 'urgent', 'blocked'],
    ['Back off between client retries', 'high', 'done'],
  ];
  for (const [title, priority, status] of tasks) {
    const task = json(['tasks', 'create', title, '--priority', priority]);
    if (status !== 'open') gantry(['tasks', 'update', task.id, '--status', status]);
  }
  gantry([
    'context',
    'set',
    'notes/release',
    'v0.4 ships Friday.\n\n- dashboard\n- faster dispatch\n- retries with backoff',
  ]);
  gantry(['context', 'set', 'deploy/staging-url', 'https://staging.example.com']);
  const doc = join(home, 'architecture.md');
  writeFileSync(doc, '# Architecture\n\nHub, gateways, agents.\n');
  gantry(['context', 'upload', doc, '--key', 'docs/architecture.md']);
  const folder = join(home, 'scout');
  mkdirSync(folder);
  gantry(['local', 'init', 'scout', '--workdir', folder]);
  return stoppedChain(gateway);
}

/** A planner that hands work to coder and linter, in a chain allowed two runs: linter is stopped. */
async function stoppedChain(gateway) {
  const planner = script('planner.sh', 'echo "Plan: @coder adds the backoff, @linter checks the style."');
  gantry([
    'agents',
    'add',
    'planner',
    '--template',
    'generic',
    '--gateway',
    gateway,
    '--provider-bin',
    planner,
  ]);
  const sent = json(['send', '@planner split up the retry work', '--chain-max-runs', '2']);
  const chainId = sent.message.id;
  for (let i = 0; i < 600; i++) {
    const shown = gantry(['chains', 'show', chainId, '--json'], { mayFail: true });
    const chain = shown.startsWith('{') ? JSON.parse(shown) : { stopped: [], runs: [] };
    const done = ['succeeded', 'failed', 'cancelled', 'timed_out', 'expired'];
    if (chain.stopped.length > 0 && chain.runs.every((r) => done.includes(r.state))) return chainId;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`chain ${chainId} never stopped`);
}
