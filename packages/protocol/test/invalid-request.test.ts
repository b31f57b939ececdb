// A body or flag that fails its schema is said plainly: the field, then what it must be.
import { expect, it } from 'vitest';
import * as z from 'zod';
import { GantryError, parseOrThrow } from '../src/index.ts';

const schema = z
  .object({
    prompt: z.string().min(1),
    name: z.string().max(3).optional(),
    timeoutMs: z.number().int().positive().optional(),
    retries: z.number().max(10).optional(),
    mode: z.enum(['new', 'continue']).optional(),
    to: z.array(z.string()).optional(),
    key: z.string().min(2, 'a key has two characters or more').optional(),
  })
  .strict();

const messageOf = (value: unknown): string => {
  try {
    parseOrThrow(schema, value, 'body');
  } catch (err) {
    expect(err).toBeInstanceOf(GantryError);
    return (err as GantryError).message;
  }
  throw new Error('parsed');
};

it('says what each field must be, in words', () => {
  expect(messageOf({ prompt: '' })).toBe('invalid body: prompt: must not be empty');
  expect(messageOf({})).toBe('invalid body: prompt: is required');
  expect(messageOf({ prompt: 'x', name: 'abcd' })).toBe('invalid body: name: must have at most 3 characters');
  expect(messageOf({ prompt: 'x', timeoutMs: -5 })).toBe('invalid body: timeoutMs: must be more than 0');
  expect(messageOf({ prompt: 'x', timeoutMs: 1.5 })).toBe('invalid body: timeoutMs: must be a whole number');
  expect(messageOf({ prompt: 'x', retries: 11 })).toBe('invalid body: retries: must be at most 10');
  expect(messageOf({ prompt: 'x', mode: 'old' })).toBe(
    'invalid body: mode: must be one of "new", "continue"',
  );
  expect(messageOf({ prompt: 'x', to: [5] })).toBe('invalid body: to.0: must be text, not a number');
  expect(messageOf({ prompt: 'x', extra: 1 })).toBe("invalid body: unknown field 'extra'");
});

it("keeps a schema's own message", () => {
  expect(messageOf({ prompt: 'x', key: 'a' })).toBe('invalid body: key: a key has two characters or more');
});
