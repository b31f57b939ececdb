/**
 * Long-lived tokens (DESIGN §5): `gnt_u_<id>.<secret>` for users, `gnt_a_` for agent keys,
 * `gnt_g_` for gateways, and `gnt_r_` for run tokens (one run's, bound to its assignment and revoked
 * when it ends; DESIGN §6a). Only a SHA-256 of the secret is stored (secrets are 256 random bits, so
 * a slow hash adds nothing); comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { newId } from '../ids.ts';

export const tokenKinds = { u: 'user', a: 'agent', g: 'gateway', r: 'run' } as const;
export type TokenLetter = keyof typeof tokenKinds;
export type TokenKind = (typeof tokenKinds)[TokenLetter];

const letterOf: Record<TokenKind, TokenLetter> = { user: 'u', agent: 'a', gateway: 'g', run: 'r' };
const tokenPattern = /^gnt_([uagr])_([a-z0-9_]{8,64})\.([A-Za-z0-9_-]{20,128})$/;

export interface MintedToken {
  id: string;
  kind: TokenKind;
  token: string;
  secretHash: string;
}

export function mintToken(kind: TokenKind): MintedToken {
  const id = newId('tok');
  const secret = randomBytes(32).toString('base64url');
  return { id, kind, token: `gnt_${letterOf[kind]}_${id}.${secret}`, secretHash: hashSecret(secret) };
}

export function parseToken(token: string): { kind: TokenKind; id: string; secret: string } | undefined {
  const match = tokenPattern.exec(token);
  if (!match) return undefined;
  const [, letter, id, secret] = match as unknown as [string, TokenLetter, string, string];
  return { kind: tokenKinds[letter], id, secret };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
