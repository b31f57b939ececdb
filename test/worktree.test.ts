// `--isolation worktree`: two assignments on the same repository at once, each in its own git
// worktree on branch gantry/<id>; neither sees the other's changes, the checkout stays clean, and
// `gateway worktrees list|prune` show and remove them while the branches keep the work.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { connectArgs, createAgent, startHub } from './fixtures.ts';
import { Sandbox } from './harness.ts';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@localhost', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

describe('worktree isolation through a real hub and gateway', () => {
  const box = new Sandbox();
  let repo: string;

  beforeAll(async () => {
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'coder');
    repo = join(box.home, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README.md'), 'shared\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'init');
    // Each run writes a file named after its assignment, waits so the two overlap, then lists
    // what it sees.
    const bin = box.script(
      'agent.sh',
      `echo "$1" > "$GANTRY_ASSIGNMENT_ID.txt"
sleep 1
echo "pwd=$PWD"
ls`,
    );
    await box.json(connectArgs(ready.url, agent.key, 'generic', bin));
    const bound = await box.json<{ settings: { isolation?: string } }>([
      'gateway',
      'bind',
      '--agent',
      'coder',
      '--workdir',
      repo,
      '--isolation',
      'worktree',
    ]);
    expect(bound.settings.isolation).toBe('worktree');
    await box.start(['gateway', 'start', '--port', '0', '--json']).ready();
  });
  afterAll(() => box.cleanup());

  it('runs two assignments at once, each in its own worktree and branch', async () => {
    const [a, b] = await Promise.all(
      ['first', 'second'].map((prompt) => box.json<Assignment>(['assign', 'coder', prompt, '--wait', '60s'])),
    );
    for (const [mine, other] of [
      [a, b],
      [b, a],
    ] as const) {
      expect(mine?.state).toBe('succeeded');
      expect(mine?.result?.branch).toBe(`gantry/${mine?.id}`);
      expect(mine?.result?.changedFiles).toEqual([`${mine?.id}.txt`]);
      expect(mine?.result?.output).toContain(`${mine?.id}.txt`);
      expect(mine?.result?.output).not.toContain(`${other?.id}.txt`);
      expect(mine?.result?.output).not.toContain(`pwd=${repo}\n`);
      // The branch holds exactly this run's file.
      expect(git(repo, 'ls-tree', '--name-only', `gantry/${mine?.id}`).split('\n').sort()).toEqual(
        ['README.md', `${mine?.id}.txt`].sort(),
      );
    }
    // They overlapped: each started before the other finished.
    const span = (x: Assignment | undefined) => [
      Date.parse(x?.startedAt ?? ''),
      Date.parse(x?.finishedAt ?? ''),
    ];
    const [aStart, aEnd] = span(a);
    const [bStart, bEnd] = span(b);
    expect(aStart! < bEnd! && bStart! < aEnd!).toBe(true);
    // The checkout itself is untouched.
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(repo, `${a?.id}.txt`))).toBe(false);

    const listed = await box.json<{ assignmentId: string; branch: string; path: string }[]>([
      'gateway',
      'worktrees',
      'list',
    ]);
    expect(listed.map((w) => w.assignmentId).sort()).toEqual([a?.id, b?.id].sort());
    for (const w of listed) expect(existsSync(w.path)).toBe(true);

    await box.json(['gateway', 'worktrees', 'prune']);
    for (const w of listed) expect(existsSync(w.path)).toBe(false);
    expect(await box.json<unknown[]>(['gateway', 'worktrees', 'list'])).toEqual([]);
    // The branches keep the work.
    expect(git(repo, 'branch', '--list', 'gantry/*').split('\n')).toHaveLength(2);
  });

  it('refuses to bind worktree isolation to a folder that is not a git repository', async () => {
    const plain = join(box.home, 'plain');
    mkdirSync(plain);
    const result = await box.run([
      'gateway',
      'bind',
      '--agent',
      'coder',
      '--workdir',
      plain,
      '--isolation',
      'worktree',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('git');
  });
});
