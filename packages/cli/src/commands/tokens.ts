/** `gantry tokens create|list|revoke`: personal tokens, and (owner, admin) every token of the workspace. */
import * as z from 'zod';
import { createdTokenSchema, tokenSchema, type TokenInfo } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { parseDuration } from '../duration.ts';
import { printJson, printLine, table } from '../output.ts';

type Json = { json?: boolean };

export async function create(options: HubOptions & Json & { expires?: string }): Promise<void> {
  const body = options.expires ? { expiresInMs: parseDuration(options.expires, '--expires') } : {};
  const created = await HubClient.from(options).request('POST', '/v1/tokens', createdTokenSchema, body);
  if (options.json) return printJson(created);
  const until = created.token.expiresAt ? `, expires ${created.token.expiresAt}` : '';
  printLine(`Created token ${created.token.id}${until}. Shown only this once:\n\n  ${created.secret}\n`);
}

export async function list(options: HubOptions & Json): Promise<void> {
  const tokens = await HubClient.from(options).request('GET', '/v1/tokens', z.array(tokenSchema));
  if (options.json) return printJson(tokens);
  printLine(
    table([
      ['ID', 'KIND', 'OWNER', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'],
      ...tokens.map((t) => [
        t.current ? `${t.id} *` : t.id,
        t.kind,
        t.owner,
        t.createdAt,
        t.expiresAt ?? '-',
        t.lastUsedAt ?? '-',
        state(t),
      ]),
    ]),
  );
}

export async function revoke(id: string, options: HubOptions & Json): Promise<void> {
  const token = await HubClient.from(options).request(
    'POST',
    `/v1/tokens/${encodeURIComponent(id)}/revoke`,
    tokenSchema,
  );
  if (options.json) return printJson(token);
  printLine(`Revoked ${token.id} (${token.kind} ${token.owner}); connections made with it are closed.`);
}

function state(t: TokenInfo): string {
  if (t.revoked) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= Date.now()) return 'expired';
  return 'active';
}
