// Issue 11, cut 10: every package's README names every source file of that package, so a reader
// finds each file's job from the README, and a new file without a line there fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const packages = new URL('../packages/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * A file is named by its file name (`hub-session.ts`) or its path (`src/hub-session.ts`), or, in a
 * folder the README names (`src/commands/`), by its name without the extension in backticks (`` `up` ``).
 */
function unnamed(pkg: string): string[] {
  const root = join(packages, pkg);
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return sources(join(root, 'src'))
    .map((path) => relative(root, path))
    .filter((path) => {
      const name = basename(path);
      if (readme.includes(name) || readme.includes(path)) return false;
      const stem = name.replace(/\.tsx?$/, '');
      return !(readme.includes(`${dirname(path)}/`) && readme.includes(`\`${stem}\``));
    });
}

describe('package READMEs', () => {
  const names = readdirSync(packages, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

  it('cover every package', () => {
    expect(names).toEqual(expect.arrayContaining(['protocol', 'hub', 'gateway', 'cli', 'web']));
  });

  it.each(names)('packages/%s/README.md names every file in src/', (pkg) => {
    expect(unnamed(pkg), `add a line for each of these to packages/${pkg}/README.md`).toEqual([]);
  });
});
