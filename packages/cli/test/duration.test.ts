// Proves CLI durations parse to milliseconds (bare numbers are seconds) and bad ones are rejected as invalid_request.
import { GantryError } from '@gantry/protocol';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/duration.ts';

/** The error parseDuration throws for `text`, or undefined if it does not throw. */
function errorFor(text: string): unknown {
  try {
    parseDuration(text);
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1.5s', 1_500],
    ['10', 10_000],
    ['1.5', 1_500],
    [' 45s ', 45_000],
  ])('parses %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '5d', '-1s', '0', '0s', '0.0001s', 's', '5 m'])(
    'rejects %j with invalid_request',
    (text) => {
      const err = errorFor(text);
      expect(err).toBeInstanceOf(GantryError);
      expect((err as GantryError).code).toBe('invalid_request');
    },
  );

  it('names what was being parsed in the message', () => {
    const err = errorFor('soon');
    expect((err as GantryError).message).toContain("'soon'");
    expect(() => parseDuration('soon', 'timeout')).toThrow(/invalid timeout 'soon'/);
  });
});
