// Issue 11, cut 10: `gantry hub start` and `gantry login` load no gateway code (paths and secret
// files come from `@gantry/protocol/node`), and protocol's main entry stays browser-safe.
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;

/** Every source file a module pulls in, as esbuild bundles it for the CLI. */
async function inputsOf(entry: string, platform: 'node' | 'browser' = 'node'): Promise<string[]> {
  const result = await build({
    entryPoints: [`${root}${entry}`],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform,
    logLevel: 'silent',
    external: ['better-sqlite3', 'pg', 'pg-native', 'bufferutil', 'utf-8-validate'],
  });
  return Object.keys((result.metafile as Metafile).inputs);
}

describe('the module graph', () => {
  it.each(['packages/cli/src/commands/hub.ts', 'packages/cli/src/commands/login.ts'])(
    '%s loads nothing of @gantry/gateway',
    async (entry) => {
      const inputs = await inputsOf(entry);
      expect(inputs.some((path) => path.includes('packages/protocol/src/node/'))).toBe(true);
      expect(inputs.filter((path) => path.includes('packages/gateway/'))).toEqual([]);
    },
  );

  it("protocol's main entry bundles for a browser (no node: module)", async () => {
    const inputs = await inputsOf('packages/protocol/src/index.ts', 'browser');
    expect(inputs.filter((path) => path.startsWith('node:') || path.includes('/node/'))).toEqual([]);
  });
});
