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

/**
 * A repository whose config runs `trap.sh` (which touches MARKER) from each place git may run a
 * program: what a run could point its worktree's `.git` at (issue 10, item 1).
 */
function evilRepository(box: Sandbox, at: string): string {
  const trap = box.script('trap.sh', `touch '${join(box.home, 'MARKER')}'`);
  git(box.home, 'init', '-q', at);
  for (const key of ['core.fsmonitor', 'core.pager', 'diff.external', 'filter.evil.clean'])
    git(at, 'config', key, trap);
  return at;
}

describe('worktree isolation through a real hub and gateway', () => {
  const box = new Sandbox();
  let repo: string;
  let evil: string;
  const marker = () => existsSync(join(box.home, 'MARKER'));

  beforeAll(async () => {
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'coder');
    repo = join(box.home, 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README.md'), 'shared\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'init');
    evil = evilRepository(box, join(box.home, 'evil'));
    // Each run writes a file named after its assignment, waits so the two overlap, then lists
    // what it sees. Told to `tamper`, it points its worktree's .git at the evil repository.
    const bin = box.script(
      'agent.sh',
      `if [ "$1" = tamper ]; then printf 'gitdir: %s\\n' '${join(box.home, 'evil', '.git')}' > .git; fi
echo "$1" > "$GANTRY_ASSIGNMENT_ID.txt"
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
      // The gateway sends the branch's patch with the result (the dashboard shows it).
      expect(mine?.result?.patch).toContain(`+++ b/${mine?.id}.txt\n`);
      expect(mine?.result?.patch).not.toContain(`${other?.id}.txt`);
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

  it('fails a run that points its worktree at another repository with worktree_tampered, running none of its config', async () => {
    const head = git(repo, 'rev-parse', 'HEAD');
    const run = await box.run(['assign', 'coder', 'tamper', '--wait', '60s', '--json']);
    expect(run.code).toBe(1);
    const final = JSON.parse(run.stdout) as Assignment;
    expect(final).toMatchObject({ state: 'failed', error: { code: 'worktree_tampered' } });
    expect(final.error?.message).toContain(`its .git points to ${join(evil, '.git')}`);
    expect(marker()).toBe(false);
    // Nothing was committed, neither on its branch nor in the repository it pointed at.
    expect(git(repo, 'rev-parse', `gantry/${final.id}`)).toBe(head);
    expect(git(evil, 'rev-list', '--all')).toBe('');
  });

  it('`gateway worktrees list|prune` run none of the config of a repository a worktree was pointed at', async () => {
    const ok = await box.json<Assignment>(['assign', 'coder', 'healthy', '--wait', '60s']);
    const other = await box.json<Assignment>(['assign', 'coder', 'left alone', '--wait', '60s']);
    expect([ok.state, other.state]).toEqual(['succeeded', 'succeeded']);
    const listed = await box.json<{ assignmentId: string; path: string }[]>(['gateway', 'worktrees', 'list']);
    const path = listed.find((w) => w.assignmentId === other.id)?.path ?? '';
    writeFileSync(join(path, 'more.txt'), 'more\n');
    writeFileSync(join(path, '.git'), `gitdir: ${join(evil, '.git')}\n`);

    const again = await box.json<{ assignmentId: string; tampered: boolean; stale: boolean }[]>([
      'gateway',
      'worktrees',
      'list',
    ]);
    expect(marker()).toBe(false);
    expect(again.find((w) => w.assignmentId === other.id)).toMatchObject({ tampered: true, stale: false });
    expect(again.find((w) => w.assignmentId === ok.id)).toMatchObject({ tampered: false });
    const table = await box.run(['gateway', 'worktrees', 'list']);
    expect(table.stdout).toMatch(new RegExp(`${other.id}\\s+gantry/${other.id}\\s+tampered`));

    const pruned = await box.json<{ assignmentId: string; removed: boolean; reason?: string }[]>([
      'gateway',
      'worktrees',
      'prune',
    ]);
    expect(marker()).toBe(false);
    expect(pruned.find((w) => w.assignmentId === ok.id)?.removed).toBe(true);
    expect(pruned.find((w) => w.assignmentId === other.id)).toMatchObject({
      removed: false,
      reason: expect.stringContaining('worktree_tampered'),
    });
    await box.json(['gateway', 'worktrees', 'prune', '--all']);
    expect(marker()).toBe(false);
    expect(existsSync(path)).toBe(false);
    expect(await box.json<unknown[]>(['gateway', 'worktrees', 'list'])).toEqual([]);
  });
});
