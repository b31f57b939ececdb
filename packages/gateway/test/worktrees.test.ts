// Proves runs on a worktree-isolated binding each get their own checkout and branch, made at once
// on one repository, with their changes committed on their own branch only; and that list and
// prune see those worktrees, keep running ones and the branches.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  finishWorktree,
  patchLimit,
  listWorktrees,
  prepareWorktree,
  pruneWorktrees,
  worktreeAt,
} from '../src/worktrees/index.ts';

let dir: string;
let root: string;

beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'gantry-worktrees-')));
  root = join(dir, 'data', 'worktrees');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A repository with three tracked files in one commit. */
function makeRepo(name: string): string {
  const repo = join(dir, name);
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(repo, 'keep.txt'), 'keep\n');
  writeFileSync(join(repo, 'edit.txt'), 'before\n');
  writeFileSync(join(repo, 'gone.txt'), 'gone\n');
  git(repo, 'add', '-A');
  git(
    repo,
    '-c',
    'user.name=Someone',
    '-c',
    'user.email=someone@example.com',
    'commit',
    '--quiet',
    '-m',
    'first',
  );
  return repo;
}

function filesOf(repo: string, rev: string): string[] {
  return git(repo, 'ls-tree', '-r', '--name-only', rev).split('\n').filter(Boolean);
}

describe('worktrees', () => {
  it('gives two runs prepared at once their own folder and branch, each committing only its own changes', async () => {
    const repo = makeRepo('project');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const [a, b] = await Promise.all([
      prepareWorktree({ repo, assignmentId: 'asg_a', root }),
      prepareWorktree({ repo, assignmentId: 'asg_b', root }),
    ]);
    expect(a.branch).toBe('gantry/asg_a');
    expect(b.branch).toBe('gantry/asg_b');
    expect(a.repo).toBe(repo);
    expect(a.base).toBe(head);
    expect(a.reused).toBe(false);
    expect(dirname(a.path)).toBe(dirname(b.path));
    expect(basename(dirname(a.path))).toMatch(/^project-[0-9a-f]{10}$/);
    expect(a.path).toBe(join(root, basename(dirname(a.path)), 'asg_a'));
    expect(a.workdir).toBe(a.path);
    expect(statSync(dirname(a.path)).mode & 0o777).toBe(0o700);
    expect(statSync(root).mode & 0o777).toBe(0o700);

    writeFileSync(join(a.path, 'a.txt'), 'from a\n');
    writeFileSync(join(b.path, 'b.txt'), 'from b\n');
    writeFileSync(join(b.path, 'edit.txt'), 'after\n');
    unlinkSync(join(b.path, 'gone.txt'));
    renameSync(join(b.path, 'keep.txt'), join(b.path, 'moved.txt'));
    expect(existsSync(join(a.path, 'b.txt'))).toBe(false);
    expect(existsSync(join(b.path, 'a.txt'))).toBe(false);

    const [changedA, changedB] = await Promise.all([finishWorktree(a, 'asg_a'), finishWorktree(b, 'asg_b')]);
    expect(changedA.changedFiles).toEqual(['a.txt']);
    expect(changedB.changedFiles).toEqual(['b.txt', 'edit.txt', 'gone.txt', 'keep.txt', 'moved.txt']);
    // The result carries the branch's patch since its base, whole when small.
    expect(changedA.patch).toMatch(/^diff --git a\/a\.txt b\/a\.txt\n/);
    expect(changedA.patch).toContain('+++ b/a.txt\n');
    expect(changedA.patchTruncated).toBeUndefined();
    expect(changedB.patch).toContain('--- a/gone.txt\n+++ /dev/null\n');

    expect(filesOf(repo, 'gantry/asg_a')).toEqual(['a.txt', 'edit.txt', 'gone.txt', 'keep.txt']);
    expect(filesOf(repo, 'gantry/asg_b')).toEqual(['b.txt', 'edit.txt', 'moved.txt']);
    expect(git(repo, 'show', 'gantry/asg_b:edit.txt')).toBe('after\n');
    const commitA = git(repo, 'show', '--stat', '--format=%an <%ae>%n%s', 'gantry/asg_a');
    expect(commitA).toContain('Gantry <gantry@localhost>\ngantry: asg_a\n');
    expect(commitA).toMatch(/a\.txt \| 1 \+\n 1 file changed/);
    expect(git(repo, 'rev-parse', 'gantry/asg_a~1').trim()).toBe(head);
    // Each worktree is left clean and on its branch; the other's files never appear in it.
    expect(git(a.path, 'status', '--porcelain')).toBe('');
    expect(existsSync(join(a.path, 'b.txt'))).toBe(false);
    expect(existsSync(join(b.path, 'a.txt'))).toBe(false);
    // The main checkout is untouched.
    expect(git(repo, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'branch', '--show-current').trim()).toBe('main');
    expect(readFileSync(join(repo, 'edit.txt'), 'utf8')).toBe('before\n');
  });

  it('cuts a long patch at a line end within the limit and says so; the branch keeps all of it', async () => {
    const repo = makeRepo('project');
    const big = await prepareWorktree({ repo, assignmentId: 'asg_big', root });
    const line = `${'x'.repeat(99)}\n`;
    writeFileSync(join(big.path, 'big.txt'), line.repeat(4000));
    const changes = await finishWorktree(big, 'asg_big');
    expect(changes.changedFiles).toEqual(['big.txt']);
    expect(changes.patchTruncated).toBe(true);
    expect(Buffer.byteLength(changes.patch ?? '')).toBeLessThanOrEqual(patchLimit);
    expect(Buffer.byteLength(changes.patch ?? '')).toBeGreaterThan(patchLimit - 200);
    expect(changes.patch?.endsWith(`+${line}`)).toBe(true);
    expect(git(repo, 'show', 'gantry/asg_big:big.txt')).toBe(line.repeat(4000));
  });

  it('makes no commit when nothing changed, and counts what the agent committed itself', async () => {
    const repo = makeRepo('project');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const idle = await prepareWorktree({ repo, assignmentId: 'asg_idle', root });
    expect((await finishWorktree(idle, 'asg_idle')).changedFiles).toEqual([]);
    expect(git(repo, 'rev-parse', 'gantry/asg_idle').trim()).toBe(head);

    const busy = await prepareWorktree({ repo, assignmentId: 'asg_busy', root });
    writeFileSync(join(busy.path, 'committed.txt'), 'by the agent\n');
    git(busy.path, 'add', 'committed.txt');
    git(busy.path, '-c', 'user.name=Agent', '-c', 'user.email=agent@example.com', 'commit', '-qm', 'agent');
    writeFileSync(join(busy.path, 'left.txt'), 'not committed\n');
    expect((await finishWorktree(busy, 'asg_busy')).changedFiles).toEqual(['committed.txt', 'left.txt']);
    expect(git(repo, 'log', '--format=%s', 'gantry/asg_busy').split('\n')).toEqual([
      'gantry: asg_busy',
      'agent',
      'first',
      '',
    ]);
  });

  it('lists a staged rename as both paths when the start commit is not known', async () => {
    const repo = makeRepo('project');
    const { path, branch, gitDir } = await prepareWorktree({ repo, assignmentId: 'asg_mv', root });
    git(path, 'mv', 'keep.txt', 'kept.txt');
    expect((await finishWorktree({ path, branch, repo, gitDir }, 'asg_mv')).changedFiles).toEqual([
      'keep.txt',
      'kept.txt',
    ]);
    expect(filesOf(repo, branch)).toEqual(['edit.txt', 'gone.txt', 'kept.txt']);
  });

  it('fails with worktree_failed when the changes cannot be committed, leaving them in the worktree', async () => {
    const repo = makeRepo('project');
    const worktree = await prepareWorktree({ repo, assignmentId: 'asg_locked', root });
    writeFileSync(join(worktree.path, 'work.txt'), 'work\n');
    // A git command the agent left hanging holds the worktree's index.
    writeFileSync(
      git(worktree.path, 'rev-parse', '--path-format=absolute', '--git-path', 'index.lock').trim(),
      '',
    );
    const finishing = finishWorktree(worktree, 'asg_locked');
    await expect(finishing).rejects.toMatchObject({ code: 'worktree_failed' });
    await expect(finishing).rejects.toThrow(
      /could not commit the changes of asg_locked on gantry\/asg_locked/,
    );
    expect(readFileSync(join(worktree.path, 'work.txt'), 'utf8')).toBe('work\n');
  });

  it('continues in the worktree and branch an earlier attempt of the same assignment left', async () => {
    const repo = makeRepo('project');
    const first = await prepareWorktree({ repo, assignmentId: 'asg_retry', root });
    writeFileSync(join(first.path, 'one.txt'), '1\n');
    await finishWorktree(first, 'asg_retry');
    writeFileSync(join(first.path, 'interrupted.txt'), 'left by a lost attempt\n');

    const second = await prepareWorktree({ repo, assignmentId: 'asg_retry', root });
    expect(second).toMatchObject({ path: first.path, branch: first.branch, reused: true });
    expect(readFileSync(join(second.path, 'interrupted.txt'), 'utf8')).toBe('left by a lost attempt\n');
    writeFileSync(join(second.path, 'two.txt'), '2\n');
    expect((await finishWorktree(second, 'asg_retry')).changedFiles).toEqual(['interrupted.txt', 'two.txt']);
    expect(filesOf(repo, 'gantry/asg_retry')).toEqual(expect.arrayContaining(['one.txt', 'two.txt']));

    // Its folder deleted by hand: the branch, which holds the work, is checked out again.
    rmSync(first.path, { recursive: true });
    const third = await prepareWorktree({ repo, assignmentId: 'asg_retry', root });
    expect(third.reused).toBe(true);
    expect(readFileSync(join(third.path, 'two.txt'), 'utf8')).toBe('2\n');
  });

  it('runs in the matching folder of the worktree when the binding is a subfolder of the repository', async () => {
    const repo = makeRepo('project');
    mkdirSync(join(repo, 'app'));
    const worktree = await prepareWorktree({ repo: join(repo, 'app'), assignmentId: 'asg_sub', root });
    expect(worktree.repo).toBe(repo);
    expect(worktree.workdir).toBe(join(worktree.path, 'app'));
    expect(statSync(worktree.workdir).isDirectory()).toBe(true);
  });

  it('refuses a folder that is not a git repository, or one without a commit, saying how to fix it', async () => {
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    const notGit = prepareWorktree({ repo: plain, assignmentId: 'asg_x', root });
    await expect(notGit).rejects.toMatchObject({ code: 'worktree_failed' });
    await expect(notGit).rejects.toThrow(
      `${plain} is not a git repository: run \`git init\` and commit there, or bind without --isolation worktree`,
    );

    git(plain, 'init', '--quiet');
    const empty = prepareWorktree({ repo: plain, assignmentId: 'asg_x', root });
    await expect(empty).rejects.toMatchObject({ code: 'worktree_failed' });
    await expect(empty).rejects.toThrow(
      /has no commit yet.*commit once, or bind without --isolation worktree/,
    );

    const badId = prepareWorktree({ repo: makeRepo('project'), assignmentId: '../escape', root });
    await expect(badId).rejects.toMatchObject({ code: 'worktree_failed' });
    expect(git(join(dir, 'project'), 'branch', '--list', 'gantry/*')).toBe('');
  });

  it('lists every worktree and prunes finished ones only, keeping running ones and every branch', async () => {
    const repo = makeRepo('project');
    const other = makeRepo('other');
    const [a, b, dirty, orphan] = await Promise.all([
      prepareWorktree({ repo, assignmentId: 'asg_a', root }),
      prepareWorktree({ repo, assignmentId: 'asg_b', root }),
      prepareWorktree({ repo, assignmentId: 'asg_dirty', root }),
      prepareWorktree({ repo: other, assignmentId: 'asg_orphan', root }),
    ]);
    writeFileSync(join(a.path, 'a.txt'), 'a\n');
    writeFileSync(join(b.path, 'b.txt'), 'b\n');
    await Promise.all([finishWorktree(a, 'asg_a'), finishWorktree(b, 'asg_b')]);
    writeFileSync(join(dirty.path, 'unfinished.txt'), 'a run that stopped before its commit\n');
    rmSync(other, { recursive: true });

    const listed = await listWorktrees(root);
    expect(listed.map((w) => [w.assignmentId, w.branch, w.changed, w.stale])).toEqual(
      expect.arrayContaining([
        ['asg_a', 'gantry/asg_a', false, false],
        ['asg_b', 'gantry/asg_b', false, false],
        ['asg_dirty', 'gantry/asg_dirty', true, false],
        ['asg_orphan', null, false, true],
      ]),
    );
    expect(listed).toHaveLength(4);
    const listedA = listed.find((w) => w.assignmentId === 'asg_a');
    expect(listedA).toMatchObject({
      path: a.path,
      repo,
      head: git(repo, 'rev-parse', 'gantry/asg_a').trim(),
    });
    expect(listed.find((w) => w.assignmentId === 'asg_orphan')?.repo).toBe(other);

    const pruned = await pruneWorktrees(root, { keep: new Set(['asg_a']) });
    expect(pruned.removed.map((w) => w.assignmentId)).toEqual(['asg_b']);
    expect(Object.fromEntries(pruned.kept.map((w) => [w.assignmentId, w.reason]))).toEqual({
      asg_a: expect.stringContaining('still going'),
      asg_dirty: expect.stringContaining('uncommitted changes'),
      asg_orphan: expect.stringContaining('no longer knows'),
    });
    expect(existsSync(b.path)).toBe(false);
    expect(existsSync(join(a.path, 'a.txt'))).toBe(true);
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(b.path);
    expect(filesOf(repo, 'gantry/asg_b')).toContain('b.txt');

    const all = await pruneWorktrees(root, { keep: async () => new Set(['asg_a']), all: true });
    expect(all.removed.map((w) => w.assignmentId).sort()).toEqual(['asg_dirty', 'asg_orphan']);
    expect((await listWorktrees(root)).map((w) => w.assignmentId)).toEqual(['asg_a']);
    expect(existsSync(dirname(orphan.path))).toBe(false);
    expect(git(repo, 'branch', '--list', 'gantry/*', '--format=%(refname:short)').split('\n')).toEqual([
      'gantry/asg_a',
      'gantry/asg_b',
      'gantry/asg_dirty',
      '',
    ]);
  });

  it('trusts only the repository it recorded for a group: without that record a worktree is stale', async () => {
    const repo = makeRepo('project');
    const worktree = await prepareWorktree({ repo, assignmentId: 'asg_old', root });
    const record = join(dirname(worktree.path), '.repository.json');
    expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual({
      repository: repo,
      gitCommonDir: join(repo, '.git'),
    });
    expect(statSync(record).mode & 0o777).toBe(0o600);
    rmSync(record);
    expect(await listWorktrees(root)).toMatchObject([{ assignmentId: 'asg_old', stale: true, repo: null }]);
    const pruned = await pruneWorktrees(root, { keep: new Set() });
    expect(pruned.kept[0]?.reason).toContain('gantry has no record of its repository');
    // The next run on that repository records it again.
    await prepareWorktree({ repo, assignmentId: 'asg_new', root });
    expect((await listWorktrees(root)).map((w) => [w.assignmentId, w.stale])).toEqual([
      ['asg_new', false],
      ['asg_old', false],
    ]);
  });

  // Issue 10, item 1: a run controls its worktree's files, `.git` included; the gateway's git must
  // never run a program named by a repository the run made.
  describe('a run that points git elsewhere', () => {
    let marker: string;
    let trap: string;

    beforeEach(() => {
      marker = join(dir, 'MARKER');
      trap = join(dir, 'trap.sh');
      writeFileSync(trap, `#!/bin/sh\ntouch '${marker}'\n`, { mode: 0o755 });
    });

    /** A repository whose config runs the trap from every place git may run a program. */
    function evilRepository(at: string): string {
      git(dir, 'init', '--quiet', at);
      for (const [key, value] of [
        ['core.fsmonitor', trap],
        ['core.pager', trap],
        ['core.hooksPath', join(at, 'hooks')],
        ['diff.external', trap],
        ['filter.evil.clean', trap],
        ['filter.evil.smudge', trap],
        ['diff.evil.textconv', trap],
      ] as const)
        git(at, 'config', key, value);
      mkdirSync(join(at, 'hooks'));
      for (const hook of ['pre-commit', 'post-commit', 'post-index-change'])
        writeFileSync(join(at, 'hooks', hook), `#!/bin/sh\n'${trap}' </dev/null\n`, { mode: 0o755 });
      return at;
    }

    /** The agent's own commit in its trap repository, with the trap defused. */
    function commitDefused(at: string): void {
      const defused = [
        '-c',
        'core.fsmonitor=false',
        '-c',
        'filter.evil.clean=cat',
        '-c',
        'core.hooksPath=/dev/null',
      ];
      git(at, ...defused, 'add', '-A');
      git(
        at,
        ...defused,
        '-c',
        'user.name=Agent',
        '-c',
        'user.email=agent@example.com',
        'commit',
        '-qm',
        'agent',
      );
    }

    it('fails with worktree_tampered, and neither finishing, listing, a continuation nor pruning runs its config', async () => {
      const repo = makeRepo('project');
      const head = git(repo, 'rev-parse', 'HEAD').trim();
      const healthy = await prepareWorktree({ repo, assignmentId: 'asg_ok', root });
      const worktree = await prepareWorktree({ repo, assignmentId: 'asg_evil', root });
      const evil = evilRepository(join(dir, 'evil'));
      writeFileSync(join(worktree.path, '.gitattributes'), '* filter=evil diff=evil\n');
      writeFileSync(join(worktree.path, 'work.txt'), 'work\n');
      writeFileSync(join(worktree.path, '.git'), `gitdir: ${join(evil, '.git')}\n`);
      // The trap is real: git discovering the repository from the worktree runs it.
      git(worktree.path, 'status', '--porcelain');
      expect(existsSync(marker)).toBe(true);
      rmSync(marker);

      const finishing = finishWorktree(worktree, 'asg_evil');
      await expect(finishing).rejects.toMatchObject({ code: 'worktree_tampered' });
      await expect(finishing).rejects.toThrow(
        `its .git points to ${join(evil, '.git')}, not to ${worktree.gitDir} where the gateway put it`,
      );
      expect(existsSync(marker)).toBe(false);
      expect(git(repo, 'rev-parse', 'gantry/asg_evil').trim()).toBe(head);
      expect(git(evil, 'rev-list', '--all')).toBe('');

      // A continuation finds the healthy worktree from a folder in it; the tampered one fails.
      expect(await worktreeAt(join(healthy.path, 'sub'), root)).toEqual({
        path: healthy.path,
        branch: 'gantry/asg_ok',
        repo,
        gitDir: healthy.gitDir,
      });
      expect(await worktreeAt(join(dir, 'elsewhere'), root)).toBeUndefined();
      await expect(worktreeAt(join(worktree.path, 'sub'), root)).rejects.toMatchObject({
        code: 'worktree_tampered',
      });
      const listed = await listWorktrees(root);
      expect(listed.map((w) => [w.assignmentId, w.tampered, w.stale, w.changed])).toEqual([
        ['asg_evil', true, false, true],
        ['asg_ok', false, false, false],
      ]);
      expect(listed[0]?.repo).toBe(repo);
      expect(existsSync(marker)).toBe(false);

      const pruned = await pruneWorktrees(root, { keep: new Set() });
      expect(pruned.removed.map((w) => w.assignmentId)).toEqual(['asg_ok']);
      expect(pruned.kept).toMatchObject([
        { assignmentId: 'asg_evil', reason: expect.stringContaining('worktree_tampered') },
      ]);
      expect(existsSync(healthy.path)).toBe(false);
      const all = await pruneWorktrees(root, { keep: new Set(), all: true });
      expect(all.removed.map((w) => w.assignmentId)).toEqual(['asg_evil']);
      expect(existsSync(worktree.path)).toBe(false);
      expect(existsSync(root) && readdirSync(root)).toEqual([]);
      expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain('asg_evil');
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(evil)).toBe(true);
    });

    it('fails with worktree_tampered when .git became a repository of its own', async () => {
      const repo = makeRepo('project');
      const worktree = await prepareWorktree({ repo, assignmentId: 'asg_own', root });
      unlinkSync(join(worktree.path, '.git'));
      evilRepository(worktree.path);
      writeFileSync(join(worktree.path, '.gitattributes'), '* filter=evil\n');
      const finishing = finishWorktree(worktree, 'asg_own');
      await expect(finishing).rejects.toMatchObject({ code: 'worktree_tampered' });
      await expect(finishing).rejects.toThrow('its .git is now a folder');
      expect((await listWorktrees(root)).map((w) => w.tampered)).toEqual([true]);
      expect(existsSync(marker)).toBe(false);
    });

    it('does not look into a repository the run nested in its worktree', async () => {
      const repo = makeRepo('project');
      const worktree = await prepareWorktree({ repo, assignmentId: 'asg_nest', root });
      const nested = evilRepository(join(worktree.path, 'nested'));
      writeFileSync(join(nested, '.gitattributes'), '* filter=evil\n');
      writeFileSync(join(nested, 'file.txt'), 'one\n');
      commitDefused(nested);
      rmSync(marker, { force: true });
      expect((await finishWorktree(worktree, 'asg_nest')).changedFiles).toEqual(['nested']);
      // A new commit in it, then a change after: a `git status` that looked inside would run its clean filter.
      writeFileSync(join(nested, 'file.txt'), 'two\n');
      commitDefused(nested);
      writeFileSync(join(nested, 'file.txt'), 'three, and longer\n');
      writeFileSync(join(worktree.path, 'more.txt'), 'more\n');
      expect((await finishWorktree(worktree, 'asg_nest')).changedFiles).toEqual(['more.txt', 'nested']);
      expect(existsSync(marker)).toBe(false);
      // Its new commit is on the branch all the same.
      expect(git(repo, 'rev-parse', 'gantry/asg_nest:nested').trim()).toBe(
        git(nested, 'rev-parse', 'HEAD').trim(),
      );
      expect((await listWorktrees(root))[0]).toMatchObject({ changed: false });
      expect(existsSync(marker)).toBe(false);
    });

    it("runs none of the programs the repository's own config names: fsmonitor, pager, external diff, hooks", async () => {
      const repo = makeRepo('project');
      const worktree = await prepareWorktree({ repo, assignmentId: 'asg_own_config', root });
      git(repo, 'config', 'core.fsmonitor', trap);
      git(repo, 'config', 'core.pager', trap);
      git(repo, 'config', 'diff.external', trap);
      for (const hook of ['pre-commit', 'post-commit', 'post-index-change', 'reference-transaction'])
        writeFileSync(join(repo, '.git', 'hooks', hook), `#!/bin/sh\n'${trap}'\n`, { mode: 0o755 });
      writeFileSync(join(worktree.path, 'edit.txt'), 'after\n');
      expect((await finishWorktree(worktree, 'asg_own_config')).changedFiles).toEqual(['edit.txt']);
      await listWorktrees(root);
      await pruneWorktrees(root, { keep: new Set() });
      expect(existsSync(worktree.path)).toBe(false);
      expect(existsSync(marker)).toBe(false);
    });
  });
});
