// `gantry --help` as a user runs it: the built CLI prints every top-level command (without building
// the command tree), and `gantry <group> --help` still shows the group's commands and options.
import { afterAll, describe, expect, it } from 'vitest';
import { topCommands } from '../packages/cli/src/specs/top-level.ts';
import { topHelp } from '../packages/cli/src/top-help.ts';
import { Sandbox } from './harness.ts';

describe('gantry --help', () => {
  const box = new Sandbox();
  afterAll(() => box.cleanup());

  it.each([['--help'], ['-h'], ['help']])('`gantry %s` lists every top-level command', async (arg) => {
    const result = await box.run([arg]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(topHelp(80));
    for (const { name, description } of topCommands) {
      expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
      expect(result.stdout.replace(/\s+/g, ' ')).toContain(description);
    }
  });

  it.each([
    [
      ['agents', '--help'],
      ['Usage: gantry agents [options] [command]', '  list [options]', '  rotate-key [options] <name>'],
    ],
    [
      ['help', 'agents'],
      ['Usage: gantry agents [options] [command]', '  discover [options]'],
    ],
    [
      ['assign', '--help'],
      [
        'Usage: gantry assign [options] <agent> <prompt...>',
        '--wait [duration]',
        '--workspace <name>',
        '--json',
      ],
    ],
    [
      ['gateway', 'service', 'install', '--help'],
      ['--dry-run', '--gantry-bin <path>', '--platform <platform>'],
    ],
    [
      ['hub', '--help'],
      ['  start [options]', '  doctor [options]', '  service'],
    ],
    [
      ['doctor', '--help'],
      ['--hub-port <port>', '--config <file>'],
    ],
  ])('`gantry %j` shows the group and its options', async (args, expected) => {
    const result = await box.run(args);
    expect(result.code).toBe(0);
    for (const text of expected) expect(result.stdout).toContain(text);
  });

  it('an unknown command is a usage error with a suggestion', async () => {
    const result = await box.run(['agnets', 'list']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown command 'agnets'");
    expect(result.stderr).toContain('(Did you mean agents?)');
  });
});
