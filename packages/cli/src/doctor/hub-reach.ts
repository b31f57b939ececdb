/** The hub as a gateway sees it: its URL, whether it answers, the clock against its own, and the token. */
import { isIP } from 'node:net';
import { error, ok, warn, type Check } from './check.ts';
import { fetchWithin } from '../fetch-within.ts';

/** Past these, leases and short-lived tokens misbehave. */
const skewWarnMs = 5_000;
const skewErrorMs = 60_000;

export async function hubChecks(url: string, token: string, tokenName: string): Promise<Check[]> {
  const checks = [plainHttpCheck(url)];
  const sent = Date.now();
  let response: Response;
  try {
    response = await fetchWithin(`${url}/v1/health`, 5000);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    checks.push(
      error(
        'hub reachable',
        `cannot reach ${url} (${cause})`,
        `start the hub, or reconnect to where it runs: gantry gateway connect --hub URL`,
      ),
    );
    return checks;
  }
  const received = Date.now();
  const body = (await response.json().catch(() => undefined)) as { version?: string } | undefined;
  if (!response.ok) {
    checks.push(
      error(
        'hub reachable',
        `${url}/v1/health answered HTTP ${response.status}`,
        `check the hub's log (gantry hub service logs)`,
      ),
    );
    return checks;
  }
  checks.push(ok('hub reachable', `${url} answers${body?.version ? `, version ${body.version}` : ''}`));
  checks.push(clockCheck(response.headers.get('date'), sent, received));
  const me = await fetchWithin(`${url}/v1/me`, 5000, {
    headers: { authorization: `Bearer ${token}` },
  }).catch(() => undefined);
  if (me?.status === 401 || me?.status === 403)
    checks.push(
      error(
        tokenName,
        `the hub refuses it (HTTP ${me.status}): revoked, or this gateway was removed`,
        'connect again with an agent key: gantry gateway connect --api-key-file FILE',
      ),
    );
  else if (me?.ok) checks.push(ok(tokenName, 'the hub accepts it'));
  else
    checks.push(
      warn(
        tokenName,
        `could not be checked (${me ? `HTTP ${me.status}` : 'no answer'})`,
        'gantry gateway status',
      ),
    );
  return checks;
}

/** The hub's `Date` header (whole seconds) against this machine's clock at the request's middle. */
function clockCheck(date: string | null, sent: number, received: number): Check {
  const hubTime = date ? Date.parse(date) : NaN;
  if (Number.isNaN(hubTime)) return ok('clock', 'the hub sent no Date header to compare with');
  const skew = hubTime - (sent + received) / 2;
  // The header has whole seconds: up to a second off is no skew.
  const off = Math.max(0, Math.abs(skew) - 1000);
  const detail = `${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'behind' : 'ahead of'} the hub`;
  const fix =
    process.platform === 'darwin' ? 'sudo sntp -sS time.apple.com' : 'sudo timedatectl set-ntp true';
  if (off > skewErrorMs) return error('clock', detail, fix);
  if (off > skewWarnMs) return warn('clock', detail, fix);
  return ok(
    'clock',
    `in step with the hub (${off === 0 ? 'within the second its Date header shows' : detail})`,
  );
}

/** Plain http to a host that is not this machine sends tokens in the clear. */
export function plainHttpCheck(url: string): Check {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  if (parsed.protocol === 'http:' && !loopback)
    return warn(
      'hub url',
      `${url} is plain http to another machine: tokens travel unencrypted`,
      `put the hub behind TLS and reconnect: gantry gateway connect --server-url https://${parsed.host}`,
    );
  return ok('hub url', url);
}
