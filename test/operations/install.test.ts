// `npm run pack` and `npm install -g` of its tarball into a temporary prefix, as on a clean machine
// (nothing from this checkout on the way: another folder, no npm_* settings), then `gantry up` and
// an assignment from that install, with the dashboard served. Installing compiles better-sqlite3
// (about a minute alone, several under load), hence the long timeout. And the pack check refuses a
// tarball carrying tests, fixtures, .env files, logs, databases or tokens.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Service } from '../harness.ts';

const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'gantry-install-'));

/** This environment without npm's own settings and Gantry's, as a fresh shell has it. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|NODE_PATH$|GANTRY_|INIT_CWD$)/i.test(key)),
  );
  return { ...env, ...extra };
}

describe('npm install -g of the packed tarball', () => {
  const services: Service[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it(
    'installs gantry on the PATH, and it runs a hub, a gateway and an assignment',
    { timeout: 15 * 60_000 },
    async () => {
      // The checkout is built before the tests run; rebuilding here would pull dist/ from under other tests.
      const packed = execFileSync('npm', ['run', 'pack', '--silent', '--', '--no-build'], {
        cwd: root,
        env: cleanEnv(),
      }).toString();
      const tarball = packed.trim().split('\n').at(-1) ?? '';
      expect(tarball).toMatch(/\/gantry-\d+\.\d+\.\d+\.tgz$/);
      const entries = execFileSync('tar', ['-tzf', tarball]).toString().split('\n');
      expect(entries).toEqual(
        expect.arrayContaining([
          'package/bin/gantry.js',
          'package/dist/main.js',
          'package/dist/web/index.html',
          'package/package.json',
        ]),
      );
      expect(entries.filter((e) => /\.map$|\/test\/|\.test\.|\.env|\.db$/.test(e))).toEqual([]);

      const prefix = join(scratch, 'prefix');
      const elsewhere = join(scratch, 'elsewhere');
      mkdirSync(elsewhere, { recursive: true });
      const install = spawnSync(
        'npm',
        ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball],
        {
          cwd: elsewhere,
          env: cleanEnv(),
          encoding: 'utf8',
          timeout: 14 * 60_000,
        },
      );
      expect(install.status, install.stderr).toBe(0);

      const env = cleanEnv({
        PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
        GANTRY_HOME: join(scratch, 'home'),
      });
      const gantry = (args: string[]) => spawnSync('gantry', args, { cwd: elsewhere, env, encoding: 'utf8' });
      const version = JSON.parse(gantry(['version', '--json']).stdout) as { version: string; commit: string };
      expect(version.commit).toMatch(/^[0-9a-f]{12}(-dirty)?$/);

      const up = new Service(
        spawn('gantry', ['up', '--port', '0', '--gateway-port', '0', '--json'], { cwd: elsewhere, env }),
      );
      services.push(up);
      const ready = await up.ready<{ hub: { url: string } }>(60_000);
      const done = gantry(['assign', 'echo', 'hello from npm install -g', '--wait', '60s', '--json']);
      expect(done.status, done.stderr).toBe(0);
      expect(JSON.parse(done.stdout)).toMatchObject({
        state: 'succeeded',
        result: { output: 'echo: hello from npm install -g' },
      });
      const dashboard = await fetch(`${ready.hub.url}/`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toMatch(/^<!doctype html>/i);
    },
  );

  it('the pack check refuses tests, fixtures, .env files, logs, databases and tokens', () => {
    const dir = join(scratch, 'bad');
    for (const file of [
      'package/dist/main.js',
      'package/test/up.test.js',
      'package/fixtures/reply.json',
      'package/.env',
      'package/gateway.log',
      'package/data/hub.db',
      'package/dist/notes.txt',
    ]) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(
        join(dir, file),
        file.endsWith('notes.txt') ? 'token gnt_u_01abcdefgh.s3cr3tS3cr3tS3cr3tS3cr3t' : 'x',
      );
    }
    const tarball = join(scratch, 'bad.tgz');
    execFileSync('tar', ['-czf', tarball, '-C', dir, 'package']);
    const check = spawnSync(process.execPath, [join(root, 'scripts/pack-check.mjs'), tarball], {
      encoding: 'utf8',
    });
    expect(check.status).toBe(1);
    for (const named of [
      'package/test/up.test.js',
      'package/fixtures/reply.json',
      'package/.env',
      'package/gateway.log',
      'package/data/hub.db',
      'package/dist/notes.txt: holds a Gantry token',
    ])
      expect(check.stderr).toContain(named);
    expect(check.stderr).not.toContain('package/dist/main.js');
  });
});
