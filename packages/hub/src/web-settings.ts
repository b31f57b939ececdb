/** How the hub meets browsers: session limits, cookie security, its public address, the built dashboard. */
import { GantryError } from '@gantry/protocol';
import { defaultSessionLimits, type SessionLimits } from './auth/web-session.ts';

export interface WebSettings {
  limits: SessionLimits;
  /** Cookies carry `Secure`: the public URL is https, or the hub serves TLS itself. */
  secureCookies: boolean;
  /** Where browsers reach the hub, without a trailing slash: the public URL, else where it listens. */
  baseUrl(): string;
  /** The built dashboard (`packages/web/dist`); absent or unbuilt, `/` says how to build it. */
  webRoot?: string;
}

export interface WebOptions {
  publicUrl?: string;
  tls: boolean;
  webRoot?: string;
  limits?: Partial<SessionLimits>;
}

/** `listening()` is the hub's own URL, known once it listens. */
export function webSettings(options: WebOptions, listening: () => string): WebSettings {
  const publicUrl = options.publicUrl === undefined ? undefined : parsePublicUrl(options.publicUrl);
  return {
    limits: { ...defaultSessionLimits, ...options.limits },
    secureCookies: publicUrl ? publicUrl.startsWith('https:') : options.tls,
    baseUrl: () => publicUrl ?? reachable(listening()),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
  };
}

/** An http(s) origin; a path prefix is refused, since the dashboard and `/v1` live at the root. */
export function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new GantryError(
      'invalid_request',
      `--public-url '${value}' is not a URL (e.g. https://gantry.example.com)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new GantryError(
      'invalid_request',
      `--public-url must be http:// or https:// (got ${url.protocol})`,
    );
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password)
    throw new GantryError(
      'invalid_request',
      `--public-url must be an origin such as https://gantry.example.com: the hub is served at the root, not under a path`,
    );
  return url.origin;
}

/** A hub listening on every address is reached on loopback from this machine. */
function reachable(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}
