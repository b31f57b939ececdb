/**
 * Several URLs of one hub system (`--hub URL1,URL2`, `GANTRY_HUB_URL` with commas, `hub_url` in
 * config.toml): hubs on one store, which the gateway moves between when the one it is connected to
 * dies. At connect each must answer `/v1/health` with the same `hubId`; URLs of different systems
 * are refused (each system is connected once, with its own `gateway connect`).
 */
import { GantryError } from '@gantry/protocol';

/** The URLs in a hub setting, each once, without trailing slashes; refuses what is not an http(s) URL. */
export function hubUrls(value: string): string[] {
  const urls = value
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter((u) => u !== '');
  if (urls.length === 0) throw new GantryError('invalid_request', 'the hub URL is empty');
  for (const url of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      throw new GantryError(
        'invalid_request',
        `'${url}' is not a hub URL (http://HOST:PORT or https://HOST)`,
      );
  }
  return [...new Set(urls)];
}

type Health =
  { url: string; hubId: string } | { url: string; missing: 'unreachable' | 'no_id'; detail: string };

async function healthAt(url: string): Promise<Health> {
  let body: { hubId?: unknown };
  try {
    const response = await fetch(new URL('/v1/health', url), { signal: AbortSignal.timeout(10_000) });
    body = (await response.json()) as { hubId?: unknown };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { url, missing: 'unreachable', detail: cause };
  }
  return typeof body.hubId === 'string'
    ? { url, hubId: body.hubId }
    : { url, missing: 'no_id', detail: 'its /v1/health names no hubId' };
}

/**
 * The hub system several URLs are of (its `hubId`), after checking each reports it; refuses URLs
 * that do not answer, do not say, or are of different systems. One URL is not checked here (the
 * connect itself says what is wrong with it).
 */
export async function oneHubSystem(urls: string[]): Promise<string | undefined> {
  if (urls.length < 2) return undefined;
  const answers = await Promise.all(urls.map(healthAt));
  for (const answer of answers) {
    if (!('missing' in answer)) continue;
    throw answer.missing === 'unreachable'
      ? new GantryError(
          'unavailable',
          `cannot reach the hub at ${answer.url} (${answer.detail}) to check it is of one hub system with the other URLs: give only URLs of hubs that answer`,
        )
      : new GantryError(
          'invalid_request',
          `the hub at ${answer.url} does not say which hub system it is (${answer.detail}): several URLs need hubs that report their hubId`,
        );
  }
  const ids = answers as { url: string; hubId: string }[];
  const first = ids[0];
  const other = ids.find((a) => a.hubId !== first?.hubId);
  if (first && other)
    throw new GantryError(
      'invalid_request',
      `${first.url} (hub system ${first.hubId}) and ${other.url} (hub system ${other.hubId}) are different hub systems: --hub takes several URLs of one system only (hubs on one store); connect this gateway to each system with its own \`gantry gateway connect\``,
    );
  return first?.hubId;
}
