/** `gantry agents create|list`. */
import { z } from 'zod';
import { agentSchema, createdAgentSchema } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { printJson, printLine, table } from '../output.ts';

export async function create(name: string, options: HubOptions & { json?: boolean }): Promise<void> {
  const client = HubClient.from(options);
  const agent = await client.request('POST', '/v1/agents', createdAgentSchema, { name });
  if (options.json) return printJson(agent);
  printLine(`Created agent ${agent.name} (${agent.id}).`);
  printLine(`Its key, shown only this once:\n\n  ${agent.key}\n`);
  printLine(`Serve it from a machine with:`);
  printLine(`  gantry gateway run --server-url ${client.url} --provider echo --api-key ${agent.key}`);
}

export async function list(options: HubOptions & { json?: boolean }): Promise<void> {
  const agents = await HubClient.from(options).request('GET', '/v1/agents', z.array(agentSchema));
  if (options.json) return printJson(agents);
  if (agents.length === 0) return printLine('No agents yet: create one with `gantry agents create NAME`.');
  printLine(
    table([
      ['NAME', 'ID', 'KIND', 'GATEWAYS'],
      ...agents.map((a) => [
        a.name,
        a.id,
        a.kind,
        a.gateways.map((g) => `${g.name}${g.connected ? '' : ' (offline)'}`).join(', ') || '-',
      ]),
    ]),
  );
}
