import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Random bytes for ids, drawn 4 KiB at a time: one `randomBytes` call costs about 50 us here
 * whatever its size up to a few KiB (issue 15: one per message sent), and ids are not secrets
 * (a token's secret is drawn on its own: auth/tokens.ts).
 */
const poolSize = 4096;
let pool = randomBytes(poolSize);
let used = 0;

function random16(): Uint8Array {
  if (used + 16 > poolSize) {
    pool = randomBytes(poolSize);
    used = 0;
  }
  used += 16;
  return pool.subarray(used - 16, used);
}

function base32(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += alphabet[byte & 31];
  return out;
}

/**
 * A new id such as `asg_01kq3m7d2a8n4v6w9x0b`: a prefix naming the kind, then time (so ids sort by
 * creation) and 80 random bits.
 */
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(32).padStart(10, '0')}${base32(random16())}`;
}
