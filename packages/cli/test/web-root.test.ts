// Where the CLI finds the built dashboard: next to its bundle when packed, else the checkout's packages/web/dist.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardRoot } from '../src/web-root.ts';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A bundle file at packages/cli/dist/main.js in a fake checkout. */
function layout(): { bundle: string; packed: string; checkout: string } {
  root = mkdtempSync(join(tmpdir(), 'gantry-web-root-'));
  const dist = join(root, 'packages', 'cli', 'dist');
  mkdirSync(dist, { recursive: true });
  return {
    bundle: pathToFileURL(join(dist, 'main.js')).href,
    packed: join(dist, 'web'),
    checkout: join(root, 'packages', 'web', 'dist'),
  };
}

function build(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
}

describe('dashboardRoot', () => {
  it("finds a checkout's packages/web/dist", () => {
    const { bundle, checkout } = layout();
    build(checkout);
    expect(dashboardRoot(bundle)).toBe(checkout);
  });

  it('prefers a build packed next to the CLI bundle', () => {
    const { bundle, packed, checkout } = layout();
    build(checkout);
    build(packed);
    expect(dashboardRoot(bundle)).toBe(packed);
  });

  it("names the checkout's folder when there is no build (the hub then says how to make one)", () => {
    const { bundle, checkout } = layout();
    expect(dashboardRoot(bundle)).toBe(checkout);
  });
});
