// The dashboard against a real hub process (`gantry hub start`) in headless Chromium, side by side
// with a baseline in the same run:
//   push latency: POST /v1/messages until the message shows in an open dashboard (Messages view:
//                 SSE -> SharedWorker -> tab -> query invalidated -> GET /v1/messages -> render),
//                 against the same POST until a bare SSE client in Node reads its activity entry
//                 (the hub's own part, with nothing of the browser)
//   first load:   compressed script a browser gets before the dashboard runs, against the 200 KB budget
// Prints a table and writes bench/results/dashboard.json.
// Needs a build (`npm run build`) and Chromium (/usr/bin/chromium or GANTRY_TEST_CHROMIUM).
// Usage: node bench/dashboard.mjs [runs]
import { createParser } from 'eventsource-parser';
import { chromium } from 'playwright-core';
import { firstLoad } from '../scripts/build-web.mjs';
import { benchHome, quantile, writeResults } from './lib.mjs';

const runs = Number(process.argv[2] ?? 40);
// The dashboard's hub runs without BENCH_NODE_ARGS.
const { service: withFlags } = benchHome('gantry-bench-', { kill: 'SIGTERM', cleanHome: true });
const service = (args) => withFlags(args, { node: [] });
const percentile = (values, p) => quantile(values, p / 100);

const hub = await service(['hub', 'start', '--port', '0', '--json']);
const token = hub.ownerToken;
const send = (body) =>
  fetch(`${hub.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  }).then((res) => {
    if (!res.ok) throw new Error(`POST /v1/messages: ${res.status}`);
  });

// Baseline: a bare SSE reader on the activity stream.
const controller = new AbortController();
const seen = new Map();
const stream = await fetch(`${hub.url}/v1/events`, {
  headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  signal: controller.signal,
});
const parser = createParser({
  onEvent(event) {
    if (event.event !== 'activity') return;
    const body = JSON.parse(event.data).data?.message?.body;
    seen.get(body)?.(performance.now());
  },
});
void (async () => {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream.body) parser.feed(decoder.decode(chunk, { stream: true }));
  } catch {
    // aborted at the end
  }
})();
const baseline = [];
for (let i = 0; i < runs; i++) {
  const body = `baseline ${i}`;
  const arrived = new Promise((resolve) => seen.set(body, resolve));
  const start = performance.now();
  await send(body);
  baseline.push((await arrived) - start);
}
controller.abort();

// The dashboard: Messages open, a MutationObserver notes when each message's text appears.
const browser = await chromium.launch({
  executablePath: process.env.GANTRY_TEST_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
const page = await browser.newPage();
await page.goto(`${hub.url}/`);
await page.getByLabel('Token').fill(token);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByRole('main').waitFor();
await page.goto(`${hub.url}/messages`);
await page.locator('.live-badge').getByText('Live').waitFor();
await page.evaluate(`
  window.__seen = {};
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.thread-text')) {
      const text = el.textContent;
      if (text.startsWith('dashboard ') && !(text in window.__seen)) window.__seen[text] = Date.now();
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
`);
const dashboard = [];
for (let i = 0; i < runs; i++) {
  const body = `dashboard ${i}`;
  const start = Date.now();
  await send(body);
  const shownAt = await page.waitForFunction((text) => globalThis.__seen[text], body, { polling: 'raf' });
  dashboard.push((await shownAt.jsonValue()) - start);
}
await browser.close();

const load = firstLoad();
const results = {
  runs,
  latency: [
    {
      name: 'change -> shown in the dashboard',
      p50: percentile(dashboard, 50),
      p95: percentile(dashboard, 95),
    },
    {
      name: 'change -> bare SSE client (baseline)',
      p50: percentile(baseline, 50),
      p95: percentile(baseline, 95),
    },
  ],
  firstLoad: {
    files: load.files,
    rawBytes: load.raw,
    gzipBytes: load.gzip,
    brotliBytes: load.brotli,
    budgetBytes: 200 * 1024,
  },
};
const [ui, base] = results.latency;
console.log(`dashboard, ${runs} runs each (ms)`);
console.log('measure                                   p50       p95');
for (const r of results.latency)
  console.log(`${r.name.padEnd(40)} ${r.p50.toFixed(1).padStart(6)} ${r.p95.toFixed(1).padStart(9)}`);
console.log(`x baseline (p50)                         ${(ui.p50 / base.p50).toFixed(1).padStart(6)}`);
console.log(
  `first load: ${(load.gzip / 1024).toFixed(1)} KB gzip, ${(load.brotli / 1024).toFixed(1)} KB brotli = ${((100 * load.gzip) / (200 * 1024)).toFixed(0)}% of the 200 KB budget`,
);
console.log(`wrote ${writeResults('dashboard', results)}`);
process.exit(0);
