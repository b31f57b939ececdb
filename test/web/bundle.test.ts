/**
 * The built dashboard as a browser first gets it: under 200 KB of compressed script, and an
 * index.html a strict CSP allows (no inline script or style, assets from the same origin only).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { firstLoad } from '../../scripts/build-web.mjs';

const dist = new URL('../../packages/web/dist/', import.meta.url).pathname;

describe('the built dashboard', () => {
  it('is built (npm run build)', () => {
    expect(existsSync(`${dist}index.html`)).toBe(true);
  });

  it('loads under 200 KB of compressed script at first', () => {
    const load = firstLoad(dist) as { files: string[]; gzip: number; brotli: number };
    expect(load.files.length).toBeGreaterThan(0);
    expect(load.gzip).toBeLessThan(200 * 1024);
    expect(load.brotli).toBeLessThan(load.gzip);
    for (const file of load.files) {
      expect(existsSync(`${dist}${file}.br`)).toBe(true);
      expect(existsSync(`${dist}${file}.gz`)).toBe(true);
    }
  });

  it('has no zod in it: the dashboard takes protocol values from its zod-free entry only', () => {
    const scripts = readdirSync(`${dist}assets/`).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    // Every zod schema class is made by `$constructor("$ZodType", ...)`; minifying keeps the string.
    for (const file of scripts)
      expect(readFileSync(`${dist}assets/${file}`, 'utf8')).not.toContain('$ZodType');
  });

  it('has nothing inline that a strict CSP would block, and only same-origin assets', () => {
    const html = readFileSync(`${dist}index.html`, 'utf8');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style[\s>]/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    for (const [, url] of html.matchAll(/\s(?:src|href)="([^"]+)"/g)) expect(url).toMatch(/^\/(?!\/)/);
  });

  it('can be installed to a home screen: a manifest with icons', () => {
    const manifest = JSON.parse(readFileSync(`${dist}manifest.webmanifest`, 'utf8')) as {
      name: string;
      start_url: string;
      display: string;
      icons: { src: string; sizes: string }[];
    };
    expect(manifest).toMatchObject({ name: 'Gantry', start_url: '/', display: 'standalone' });
    for (const icon of manifest.icons) expect(existsSync(`${dist}${icon.src.slice(1)}`)).toBe(true);
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
  });
});
