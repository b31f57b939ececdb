// An assignment's events past one page (issue 10, item 12): a generic provider prints 25,000 lines
// through a real hub and gateway; `gantry assignments events ID --json` returns every one in order,
// and `GET /v1/assignments/ID/events` pages with `limit` and a `Link: rel="next"` header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { Sandbox } from './harness.ts';
import { connectArgs, createAgent, startHub, type HubReady } from './fixtures.ts';

const lines = 25_000;
const box = new Sandbox();
let hub: HubReady;
let run: Assignment;

beforeAll(async () => {
  ({ ready: hub } = await startHub(box));
  const chatty = await createAgent(box, 'chatty');
  const bin = box.script('chatty.sh', `seq 1 ${lines}`);
  await box.json(connectArgs(hub.url, chatty.key, 'generic', bin));
  await box.start(['gateway', 'start', '--port', '0', '--json']).ready();
  const assigned = await box.run(
    ['assign', 'chatty', 'count', '--wait', '4m', '--json'],
    {},
    { timeoutMs: 250_000 },
  );
  if (assigned.code !== 0) throw new Error(`assign exited ${assigned.code}: ${assigned.stderr}`);
  run = JSON.parse(assigned.stdout) as Assignment;
}, 300_000);
afterAll(() => box.cleanup());

describe('assignment events past one page', () => {
  it('gantry assignments events ID --json returns all 25,000 in order', async () => {
    expect(run.state).toBe('succeeded');
    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', run.id]);
    const texts = events.filter((e) => e.type === 'output').map((e) => e.data.text);
    expect(texts).toHaveLength(lines);
    expect(texts).toEqual(Array.from({ length: lines }, (_, i) => String(i + 1)));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  }, 120_000);

  it('the text listing has every event too, one line each', async () => {
    const listed = await box.run(['assignments', 'events', run.id]);
    expect(listed.code, listed.stderr).toBe(0);
    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', run.id]);
    expect(events.length).toBeGreaterThanOrEqual(lines);
    expect(listed.stdout.trimEnd().split('\n')).toHaveLength(events.length);
  }, 120_000);

  it('the REST route answers a page at a time and links the next one', async () => {
    const seen: AssignmentEvent[] = [];
    let path: string | undefined = `/v1/assignments/${run.id}/events?limit=7000`;
    let pages = 0;
    while (path) {
      const response = await fetch(`${hub.url}${path}`, {
        headers: { authorization: `Bearer ${hub.ownerToken}` },
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as AssignmentEvent[];
      expect(page.length).toBeLessThanOrEqual(7000);
      seen.push(...page);
      pages += 1;
      path = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1];
      if (path) expect(path).toContain(`since=1%3A${page.at(-1)?.seq}`);
    }
    expect(pages).toBe(Math.ceil(seen.length / 7000));
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.filter((e) => e.type === 'output')).toHaveLength(lines);
    const unpaged = await fetch(`${hub.url}/v1/assignments/${run.id}/events?limit=10001`, {
      headers: { authorization: `Bearer ${hub.ownerToken}` },
    });
    expect(unpaged.status).toBe(400);
  }, 120_000);
});
