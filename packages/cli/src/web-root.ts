/**
 * Where the built dashboard is, found from this bundle's own place: a packed install carries it
 * next to the CLI bundle (`dist/web`); a checkout has it in its package (`packages/web/dist`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function dashboardRoot(bundleUrl: string = import.meta.url): string {
  const packed = fileURLToPath(new URL('./web', bundleUrl));
  const checkout = fileURLToPath(new URL('../../web/dist', bundleUrl));
  // Without a build the hub serves a page saying how to make one, so any answer will do then.
  return [packed, checkout].find((dir) => existsSync(`${dir}/index.html`)) ?? checkout;
}
