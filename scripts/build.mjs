// Bundles the CLI (with hub, gateway and protocol) into packages/cli/dist with esbuild, then builds the dashboard (build-web.mjs).
// Commands are split into chunks that load lazily, so `gantry --version` stays close to `node -e 0`.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const outdir = `${root}packages/cli/dist`;
// `gantry version` names the commit it was built from; a build outside a checkout says 'unknown'.
const commit = gitCommit();

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
  define: { __GANTRY_VERSION__: JSON.stringify(version), __GANTRY_COMMIT__: JSON.stringify(commit) },
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

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return `${head.toString().trim().slice(0, 12)}${dirty.length > 0 ? '-dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}
