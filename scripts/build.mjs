// Bundles the CLI (with hub, gateway and protocol) into packages/cli/dist with esbuild, then builds the dashboard (build-web.mjs).
// Commands are split into chunks that load lazily, so `gantry --version` stays close to `node -e 0`.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const outdir = `${root}packages/cli/dist`;
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: [`${root}packages/cli/src/main.ts`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { __GANTRY_VERSION__: JSON.stringify(version) },
  // Native or optional modules load from node_modules at run time.
  external: ['better-sqlite3', 'pg', 'pg-native', 'bufferutil', 'utf-8-validate'],
  banner: {
    js: "import { createRequire as __gantryCreateRequire } from 'node:module'; const require = __gantryCreateRequire(import.meta.url);",
  },
});

// The dashboard the hub serves at `/`.
const { buildWeb } = await import('./build-web.mjs');
const load = await buildWeb();
console.log(
  `web: first load ${(load.gzip / 1024).toFixed(1)} KB of script (gzip), ${(load.brotli / 1024).toFixed(1)} KB (brotli)`,
);
