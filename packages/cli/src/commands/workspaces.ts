/** `gantry workspaces list|create`: the workspaces you belong to, and new ones you own. */
import * as z from 'zod';
import { createdWorkspaceSchema, workspaceSchema } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { checkName } from '../names.ts';
import { printJson, printLine, table } from '../output.ts';

type Json = { json?: boolean };

export async function list(options: HubOptions & Json): Promise<void> {
  const rows = await HubClient.from(options).request('GET', '/v1/workspaces', z.array(workspaceSchema));
  if (options.json) return printJson(rows);
  printLine(
    table([
      ['', 'NAME', 'ROLE', 'ID'],
      ...rows.map((w) => [w.current ? '*' : '', w.name, w.role ?? '-', w.id]),
    ]),
  );
}

export async function create(name: string, options: HubOptions & Json): Promise<void> {
  checkName('workspace name', name);
  const created = await HubClient.from(options).request('POST', '/v1/workspaces', createdWorkspaceSchema, {
    name,
  });
  if (options.json) return printJson(created);
  printLine(`Created workspace ${created.workspace.name} (${created.workspace.id}); you are its owner.`);
  printLine(`A token for it, shown only this once:\n\n  ${created.token}\n`);
  printLine(
    `Act in it with \`--workspace ${created.workspace.name}\` (or GANTRY_WORKSPACE), or with this token.`,
  );
}
