// `gantry version`: the version, the commit the build was made from, and the Node running it.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../harness.ts';

describe('gantry version', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it('prints version, commit and Node, as text and JSON', async () => {
    const info = await box.json<{ version: string; commit: string; node: string }>(['version']);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.commit).toMatch(/^[0-9a-f]{12}(-dirty)?$/);
    // The build may predate the newest commit of this checkout, but it is one of its commits.
    expect(
      execFileSync('git', ['cat-file', '-t', info.commit.slice(0, 12)])
        .toString()
        .trim(),
    ).toBe('commit');
    expect(info.node).toBe(process.version);
    const text = await box.run(['version']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`gantry ${info.version} (commit ${info.commit}) on Node ${info.node}\n`);
  });
});
