import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

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
  return `${prefix}_${now.toString(32).padStart(10, '0')}${base32(randomBytes(16))}`;
}
