/** `gantry agents list`: read with a zod/mini reader, so it loads no zod (a quick command). */
import { agentListAnswer } from '@gantry/protocol/answers';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { printJson, printLine, table } from '../output.ts';

export async function list(options: HubOptions & { json?: boolean }): Promise<void> {
  const agents = await HubClient.from(options).request('GET', '/v1/agents', agentListAnswer);
  if (options.json) return printJson(agents);
  if (agents.length === 0) return printLine('No agents yet: create one with `gantry agents create NAME`.');
  printLine(
    table([
      ['NAME', 'ID', 'KIND', 'STATE', 'GATEWAYS'],
      ...agents.map((a) => [
        a.name,
        a.id,
        a.kind,
        a.paused ? 'paused' : 'active',
        a.gateways.map((g) => `${g.name}${g.connected ? '' : ' (offline)'}`).join(', ') || '-',
      ]),
    ]),
  );
}
