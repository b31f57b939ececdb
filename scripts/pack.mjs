// `npm run pack`: one tarball that `npm install -g <tarball>` installs on a clean machine: the CLI
// bundle (hub, gateway and protocol inside it) and the built dashboard, with the native and
// optional drivers (better-sqlite3, pg) as real dependencies. Checked by pack-check.mjs; its path
// is the last line printed.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTarball } from './pack-check.mjs';

const root = new URL('..', import.meta.url).pathname;
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const cliPackage = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8'));

if (!process.argv.includes('--no-build'))
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

const out = join(root, '.pack');
mkdirSync(out, { recursive: true });
const stage = mkdtempSync(join(tmpdir(), 'gantry-pack-'));
mkdirSync(join(stage, 'bin'));
cpSync(join(root, 'packages/cli/bin/gantry.js'), join(stage, 'bin/gantry.js'));
// The bundle without its source maps (they would carry the sources, at twice the size).
cpSync(join(root, 'packages/cli/dist'), join(stage, 'dist'), {
  recursive: true,
  filter: (path) => !path.endsWith('.map'),
});
cpSync(join(root, 'packages/web/dist'), join(stage, 'dist/web'), { recursive: true });
cpSync(join(root, 'README.md'), join(stage, 'README.md'));

/** What the bundle leaves out and loads from node_modules at run time (scripts/build.mjs `external`). */
const runtime = ['better-sqlite3', 'pg'];
const manifest = {
  name: 'gantry',
  version: rootPackage.version,
  description: rootPackage.description,
  type: 'module',
  bin: { gantry: 'bin/gantry.js' },
  engines: rootPackage.engines,
  os: ['linux', 'darwin'],
  files: ['bin', 'dist', 'README.md'],
  dependencies: Object.fromEntries(runtime.map((name) => [name, cliPackage.dependencies[name]])),
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

for (const old of readdirSync(out).filter((f) => f.endsWith('.tgz'))) rmSync(join(out, old));
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
    cwd: stage,
    stdio: ['ignore', 'pipe', 'inherit'],
  }).toString(),
);
rmSync(stage, { recursive: true, force: true });
const tarball = join(out, packed[0].filename);
const { entries, problems } = checkTarball(tarball);
if (problems.length > 0) {
  rmSync(tarball);
  console.error(`pack check failed, no tarball written; it must not ship:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `packed ${entries.length} files, ${(packed[0].size / 1024 / 1024).toFixed(1)} MB; pack check passed`,
);
console.log('install with: npm install -g <the tarball>');
console.log(tarball);
