import { describe, expect, it } from 'vitest';
import { moveLeadingOptions } from '../src/leading-options.ts';

describe('options given before the command', () => {
  it('move after the command words, values and all', () => {
    expect(moveLeadingOptions(['--hub', 'http://a', 'assign', 'echo', 'hi'])).toEqual([
      'assign',
      'echo',
      'hi',
      '--hub',
      'http://a',
    ]);
    expect(moveLeadingOptions(['--json', '--token=gnt_x', 'agents', 'list'])).toEqual([
      'agents',
      'list',
      '--json',
      '--token=gnt_x',
    ]);
  });

  it('stay before a `--` that ends the options', () => {
    expect(moveLeadingOptions(['--workspace', 'w', 'assign', 'echo', '--', '--not-an-option'])).toEqual([
      'assign',
      'echo',
      '--workspace',
      'w',
      '--',
      '--not-an-option',
    ]);
  });

  it('leave anything else as given, for commander to explain', () => {
    for (const args of [
      ['assign', 'echo', 'hi'],
      ['--hub'],
      ['--json'],
      ['--version'],
      ['--hub', 'x', '--help'],
    ])
      expect(moveLeadingOptions(args)).toEqual(args);
  });
});
