// Issue 10, item 2: the hub's database (it holds the JWT signing key) with its -wal and -shm, the
// gateway's gateway.db, and the folders they are in are readable by their user only. A looser
// folder of ours is tightened with a warning, another's (or a shared one) refused, and
// `auth doctor` reports loose files with the command that fixes them.
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { connectArgs, createAgent, startHub } from './fixtures.ts';
import { eventually, Sandbox } from './harness.ts';

const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
const modes = (paths: string[]) => Object.fromEntries(paths.map((p) => [p, mode(p)]));
const database = (path: string) => [path, `${path}-wal`, `${path}-shm`];

/** A folder made as loose as a shared one usually is (mkdir's mode is cut by the umask). */
function looseFolder(path: string, bits = 0o755): string {
  mkdirSync(path, { recursive: true });
  chmodSync(path, bits);
  return path;
}

describe('files that hold secrets', () => {
  const boxes: Sandbox[] = [];
  const sandbox = () => {
    const box = new Sandbox();
    boxes.push(box);
    return box;
  };
  afterAll(() => Promise.all(boxes.map((b) => b.cleanup())));

  it('a hub keeps hub.db, its -wal and -shm 0600 in its data folder, which it tightens to 0700 with a warning', async () => {
    const box = sandbox();
    const dataDir = looseFolder(join(box.home, 'shared'));
    const { hub } = await startHub(box, ['--data-dir', dataDir]);
    // Writes after start: the WAL has content, the shared memory is in use.
    await createAgent(box, 'writer');
    const db = join(dataDir, 'hub.db');
    await eventually(async () => (existsSync(`${db}-wal`) && existsSync(`${db}-shm`) ? true : undefined));
    expect(modes([dataDir, ...database(db), join(dataDir, 'owner.token')])).toEqual({
      [dataDir]: '0700',
      [db]: '0600',
      [`${db}-wal`]: '0600',
      [`${db}-shm`]: '0600',
      [join(dataDir, 'owner.token')]: '0600',
    });
    expect(hub.stderr).toContain(`${dataDir} had mode 0755, which let other users read it; it is now 0700`);

    // Files an older version left loose are tightened at the next start.
    await hub.stop();
    for (const path of database(db).filter((p) => existsSync(p))) chmodSync(path, 0o644);
    const again = box.start(['hub', 'start', '--port', '0', '--json', '--data-dir', dataDir]);
    const { url } = await again.ready<{ url: string }>();
    await box.json(['agents', 'create', 'another', '--hub', url]);
    expect(mode(db)).toBe('0600');
    expect(again.stderr).toContain(`${db} had mode 0644`);
    await eventually(async () => (existsSync(`${db}-wal`) ? true : undefined));
    expect(modes(database(db))).toEqual({ [db]: '0600', [`${db}-wal`]: '0600', [`${db}-shm`]: '0600' });
  });

  it('refuses a data folder other users write to, naming it and the fix, and writes nothing there', async () => {
    const box = sandbox();
    const shared = looseFolder(join(box.home, 'drop'), 0o1777);
    const result = await box.run(
      ['hub', 'start', '--port', '0', '--data-dir', shared],
      {},
      { timeoutMs: 15_000 },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`gantry keeps no secret in the folder ${shared}`);
    expect(result.stderr).toContain('use a folder of your own (for the hub: --data-dir)');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(shared, 'hub.db'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses a data folder that belongs to another user, even one root could chmod',
    async () => {
      const box = sandbox();
      const theirs = looseFolder(join(box.home, 'theirs'), 0o700);
      chownSync(theirs, 65534, 65534);
      const result = await box.run(
        ['hub', 'start', '--port', '0', '--data-dir', theirs],
        {},
        { timeoutMs: 15_000 },
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `gantry keeps no secret in the folder ${theirs}: it belongs to another user (uid 65534)`,
      );
      expect(result.stderr).toContain(`chown 0 ${theirs} && chmod 700 ${theirs}`);
      expect(existsSync(join(theirs, 'hub.db'))).toBe(false);
    },
  );

  it('a gateway keeps gateway.db, its -wal and -shm 0600, and tightens its config and data folders', async () => {
    const box = sandbox();
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'echo');
    await box.json(connectArgs(ready.url, agent.key, 'echo'));
    const config = join(box.home, 'config');
    const data = looseFolder(join(box.home, 'data'));
    chmodSync(config, 0o755);
    const gateway = box.start(['gateway', 'start', '--port', '0', '--json']);
    await gateway.ready();
    const done = await box.json<Assignment>(['assign', 'echo', 'hello', '--wait', '30s']);
    expect(done.state).toBe('succeeded');
    const db = join(data, 'gateway.db');
    expect(modes([config, data, ...database(db)])).toEqual({
      [config]: '0700',
      [data]: '0700',
      [db]: '0600',
      [`${db}-wal`]: '0600',
      [`${db}-shm`]: '0600',
    });
    expect(gateway.stderr).toContain(`${config} had mode 0755`);
    expect(gateway.stderr).toContain(`${data} had mode 0755`);
  });

  it('`auth doctor` reports loose files and folders with the command that fixes each', async () => {
    const box = sandbox();
    const dataDir = join(box.home, 'hub-data');
    const { hub } = await startHub(box, ['--data-dir', dataDir]);
    await hub.stop();
    const db = join(dataDir, 'hub.db');
    chmodSync(dataDir, 0o755);
    chmodSync(db, 0o644);
    const result = await box.run(['auth', 'doctor', '--json', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      healthy: boolean;
      files: { path: string; mode: string; ok: boolean; fix?: string }[];
      problems: { code: string; message: string }[];
    };
    expect(report.healthy).toBe(false);
    expect(report.files).toEqual(
      expect.arrayContaining([
        { path: dataDir, mode: '0755', ok: false, fix: `chmod 0700 ${dataDir}` },
        { path: db, mode: '0644', ok: false, fix: `chmod 0600 ${db}` },
        { path: join(dataDir, 'owner.token'), mode: '0600', ok: true },
      ]),
    );
    expect(report.problems).toEqual(
      expect.arrayContaining([
        {
          code: 'loose_file_mode',
          severity: 'error',
          message: `${db} has mode 0644: others may read it; run \`chmod 0600 ${db}\``,
        },
      ]),
    );
    const text = await box.run(['auth', 'doctor', '--data-dir', dataDir]);
    expect(text.stdout).toContain(
      `x ${dataDir} has mode 0755: others may read it; run \`chmod 0700 ${dataDir}\``,
    );
  });
});
