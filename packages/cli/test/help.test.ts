// `gantry --help` prints from the list of top-level commands without commander, and a command builds
// only its own group's spec: both must read exactly as the whole commander tree would.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/program.ts';
import { topCommands } from '../src/specs/top-level.ts';
import { topHelp } from '../src/top-help.ts';

function helpAt(command: Command, width: number): string {
  command.configureHelp({ helpWidth: width });
  return command.helpInformation();
}

/** Every command under `command`, by its path of names. */
function walk(command: Command, path: string[] = []): [string[], Command][] {
  return command.commands.flatMap((sub) => {
    const at = [...path, sub.name()];
    return [[at, sub] as [string[], Command], ...walk(sub, at)];
  });
}

function find(program: Command, path: string[]): Command | undefined {
  let command: Command | undefined = program;
  for (const name of path) command = command?.commands.find((c) => c.name() === name);
  return command;
}

describe('gantry --help', () => {
  it.each([80, 50, 120, 200, 30])('reads as commander prints the whole tree, %i columns wide', (width) => {
    expect(topHelp(width)).toBe(helpAt(buildProgram([]), width));
  });

  it('lists every top-level command of the tree, once', () => {
    const names = buildProgram([]).commands.map((c) => c.name());
    expect(names).toEqual(topCommands.map((c) => c.name));
    for (const name of names) expect(topHelp()).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });
});

describe('a command builds its own group only', () => {
  const full = buildProgram([]);

  it.each(topCommands.map((c) => c.name))(
    '`%s` and everything under it read as in the whole tree',
    (name) => {
      for (const args of [
        [name, '--help'],
        ['help', name],
      ]) {
        const lazy = buildProgram(args);
        expect(lazy.commands.length).toBeLessThan(full.commands.length);
        const own = walk(full).filter(([path]) => path[0] === name);
        expect(own.length).toBeGreaterThan(0);
        for (const [path, command] of own) {
          const built = find(lazy, path);
          expect(built, path.join(' ')).toBeDefined();
          expect(helpAt(built as Command, 80), path.join(' ')).toBe(helpAt(command, 80));
        }
      }
    },
  );

  it('every group command has subcommands or options to show', () => {
    for (const { name } of topCommands) {
      const command = find(buildProgram([name]), [name]) as Command;
      expect(command.commands.length + command.options.length, name).toBeGreaterThan(0);
    }
  });

  it('an unknown command builds the whole tree (for its suggestion)', () => {
    expect(buildProgram(['agnets']).commands.length).toBe(full.commands.length);
    expect(buildProgram(['--hub', 'x']).commands.length).toBe(full.commands.length);
  });
});
