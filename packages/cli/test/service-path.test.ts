import { describe, expect, it } from 'vitest';
import { servicePath } from '../src/service/target.ts';

describe('servicePath', () => {
  it('keeps each folder once, in order', () => {
    expect(servicePath('/a/bin:/usr/bin:/a/bin:/bin:/usr/bin')).toBe('/a/bin:/usr/bin:/bin');
  });

  it("drops npm's own helper folders that npx puts on PATH", () => {
    const path =
      '/repo/node_modules/.bin:/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin:/usr/bin';
    expect(servicePath(path)).toBe('/repo/node_modules/.bin:/usr/bin');
  });

  it('drops empty entries', () => {
    expect(servicePath('::/usr/bin:')).toBe('/usr/bin');
  });
});
