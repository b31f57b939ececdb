/** `gantry users add|list|remove`: the workspace's people and their roles. */
import * as z from 'zod';
import { createdUserSchema, userSchema } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { checkName } from '../names.ts';
import { printJson, printLine, table } from '../output.ts';

type Json = { json?: boolean };

export async function add(handle: string, options: HubOptions & Json & { role?: string }): Promise<void> {
  checkName('user handle', handle);
  const client = HubClient.from(options);
  const body = { handle, ...(options.role ? { role: options.role } : {}) };
  const created = await client.request('POST', '/v1/users', createdUserSchema, body);
  if (options.json) return printJson(created);
  printLine(`Added ${created.user.handle} as ${created.user.role} (${created.user.id}).`);
  printLine(`Their token, shown only this once:\n\n  ${created.token}\n`);
  printLine(`They log in with:\n  gantry login --url ${client.url} --token <the token>`);
}

export async function list(options: HubOptions & Json): Promise<void> {
  const users = await HubClient.from(options).request('GET', '/v1/users', z.array(userSchema));
  if (options.json) return printJson(users);
  printLine(
    table([['HANDLE', 'ROLE', 'ID', 'SINCE'], ...users.map((u) => [u.handle, u.role, u.id, u.createdAt])]),
  );
}

export async function remove(handle: string, options: HubOptions & Json): Promise<void> {
  const user = await HubClient.from(options).request(
    'DELETE',
    `/v1/users/${encodeURIComponent(handle)}`,
    userSchema,
  );
  if (options.json) return printJson(user);
  printLine(`Removed ${user.handle} (${user.role}); their tokens are revoked.`);
}
