/** Ids: a prefix, the time (so they sort by creation), 80 random bits; drawn from a pool, never repeated. */
import { expect, it } from 'vitest';
import { newId } from '../src/ids.ts';

it('makes distinct ids across many refills of the random pool, each of the documented shape', () => {
  const now = 1_750_000_000_000;
  const ids = Array.from({ length: 3000 }, () => newId('msg', now)); // 16 bytes each: 12 pools of 4 KiB
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect(id).toMatch(/^msg_[0-9a-v]{10}[0-9a-hjkmnp-tv-z]{16}$/);
  // The random part differs in every position somewhere (no slice of the pool is handed out twice).
  const tails = new Set(ids.map((id) => id.slice(-16)));
  expect(tails.size).toBe(ids.length);
  expect(newId('asg', now + 1) > newId('asg', now)).toBe(true);
});
