import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/program.ts';

/** Parses `gantry ARGS` up to the point a command would run; returns commander's error, if any. */
async function parseError(args: string[]): Promise<CommanderError | undefined> {
  const program = buildProgram(args);
  const quiet = (command: Command): void => {
    command.configureOutput({ writeErr: () => undefined, writeOut: () => undefined }).exitOverride();
    for (const sub of command.commands) quiet(sub);
  };
  quiet(program);
  try {
    await program.parseAsync(['node', 'gantry', ...args, '--help']);
  } catch (err) {
    if (err instanceof CommanderError && err.code !== 'commander.helpDisplayed') return err;
  }
  return undefined;
}

describe('an option given another option as its value', () => {
  it('says which option lacks its value', async () => {
    const err = await parseError(['inbox', '--wait', '--timeout', '2s']);
    expect(err?.code).toBe('commander.invalidArgument');
    expect(err?.message).toContain(`option '--wait <duration>' argument '--timeout' is invalid`);
    expect(err?.message).toContain('give --wait its value first');
  });

  it('leaves values that are not options, and free text, alone', async () => {
    expect(await parseError(['inbox', '--wait', '2s'])).toBeUndefined();
    expect(await parseError(['tasks', 'create', 'x', '--body', '--not-an-option'])).toBeUndefined();
    expect(await parseError(['assign', 'echo', 'hi', '--timeout', '-5'])).toBeUndefined();
  });
});
