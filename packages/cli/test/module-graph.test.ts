// Issue 11, cut 10: `gantry hub start` and `gantry login` load no gateway code (paths and secret
// files come from `@gantry/protocol/node`), and protocol's main entry stays browser-safe.
// Issue 11, start-up: the command tree loads no zod, and the quick commands that talk to the hub
// (`whoami`, `agents list`, `assign --wait`) load neither zod's full library nor protocol's
// schemas (only zod/mini readers) nor `fetch` (undici).
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;

/**
 * Every source file a module loads, as esbuild bundles it for the CLI: its chunk and the chunks
 * those import statically (what a dynamic `import()` loads comes only when it runs), and their text.
 */
async function inputsOf(entry: string, platform: 'node' | 'browser' = 'node'): Promise<string[]> {
  return (await bundle(entry, platform)).inputs;
}

async function bundle(
  entry: string,
  platform: 'node' | 'browser' = 'node',
): Promise<{ inputs: string[]; text: string }> {
  const result = await build({
    entryPoints: [`${root}${entry}`],
    bundle: true,
    splitting: true,
    outdir: '/module-graph',
    write: false,
    metafile: true,
    format: 'esm',
    platform,
    logLevel: 'silent',
    external: ['better-sqlite3', 'pg', 'pg-native', 'bufferutil', 'utf-8-validate'],
  });
  const outputs = (result.metafile as Metafile).outputs;
  const start = Object.keys(outputs).find((name) => outputs[name]?.entryPoint === entry);
  const loaded = new Set<string>();
  const visit = (name: string) => {
    if (loaded.has(name) || !outputs[name]) return;
    loaded.add(name);
    for (const i of outputs[name].imports) if (i.kind === 'import-statement') visit(i.path);
  };
  if (start) visit(start);
  const files = result.outputFiles.filter((file) => [...loaded].some((name) => file.path.endsWith(name)));
  return {
    inputs: [...loaded].flatMap((name) => Object.keys(outputs[name]?.inputs ?? {})),
    text: files.map((file) => file.text).join('\n'),
  };
}

/** zod itself (zod/mini's part is `v4/mini` and `v4/core`) and protocol's full schemas. */
const fullSchemas = (path: string) =>
  /node_modules\/zod\/(v4\/classic|v3|index)/.test(path) ||
  (path.includes('packages/protocol/src/') &&
    !/\/(core|answers|vocabulary|gantry-error|failures|activity-filter|task-vocabulary|version)\.ts$|\/node\//.test(
      path,
    ));

describe('the module graph', () => {
  it.each(['packages/cli/src/commands/hub.ts', 'packages/cli/src/commands/login.ts'])(
    '%s loads nothing of @gantry/gateway',
    async (entry) => {
      const inputs = await inputsOf(entry);
      expect(inputs.some((path) => path.includes('packages/protocol/src/node/'))).toBe(true);
      expect(inputs.filter((path) => path.includes('packages/gateway/'))).toEqual([]);
    },
  );

  it('the command tree loads no zod and no command', async () => {
    const inputs = await inputsOf('packages/cli/src/program.ts');
    expect(inputs.filter((path) => path.includes('node_modules/zod/'))).toEqual([]);
    expect(inputs.filter((path) => path.includes('packages/cli/src/commands/'))).toEqual([]);
  });

  it('`gantry --help` loads the list of top-level commands and nothing else (no commander)', async () => {
    const inputs = await inputsOf('packages/cli/src/top-help.ts');
    expect(inputs.sort()).toEqual(['packages/cli/src/specs/top-level.ts', 'packages/cli/src/top-help.ts']);
  });

  it.each([
    'packages/cli/src/commands/login.ts',
    'packages/cli/src/commands/agents-list.ts',
    'packages/cli/src/commands/assign.ts',
  ])('%s (a quick command) loads no full zod schema and no fetch', async (entry) => {
    const { inputs, text } = await bundle(entry);
    expect(inputs.some((path) => path.endsWith('packages/protocol/src/answers.ts'))).toBe(true);
    expect(inputs.filter(fullSchemas)).toEqual([]);
    expect(inputs.some((path) => path.endsWith('packages/cli/src/http.ts'))).toBe(true);
    expect(text).not.toMatch(/\bfetch\(/);
  });

  it("protocol's main entry bundles for a browser (no node: module)", async () => {
    const inputs = await inputsOf('packages/protocol/src/index.ts', 'browser');
    expect(inputs.filter((path) => path.startsWith('node:') || path.includes('/node/'))).toEqual([]);
  });
});
