/** `gantry gateways list|show ID` (device, trust and bindings as the hub sees them) and `gantry audit list`. */
import * as z from 'zod';
import { auditEntrySchema, gatewayDetailSchema, gatewaySchema, type Gateway } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { printJson, printLine, table } from '../output.ts';

type Json = { json?: boolean };

export async function listGateways(flags: HubOptions & Json): Promise<void> {
  const gateways: Gateway[] = await HubClient.from(flags).request(
    'GET',
    '/v1/gateways',
    z.array(gatewaySchema),
  );
  if (flags.json) return printJson(gateways);
  if (gateways.length === 0) return printLine('No gateways yet.');
  printLine(
    table([
      ['ID', 'NAME', 'STATE', 'AGENTS', 'RUNNING', 'LAST CONTACT'],
      ...gateways.map((g) => [
        g.id,
        g.name,
        g.connected ? 'connected' : 'offline',
        g.agents.map((a) => a.name).join(',') || '-',
        String(g.runningAttempts),
        g.lastSeenAt ?? 'never',
      ]),
    ]),
  );
}

export async function showGateway(id: string, options: HubOptions & Json): Promise<void> {
  const g = await HubClient.from(options).request(
    'GET',
    `/v1/gateways/${encodeURIComponent(id)}`,
    gatewayDetailSchema,
  );
  if (options.json) return printJson(g);
  printLine(`Gateway     ${g.name} (${g.id})`);
  printLine(`State       ${g.connected ? 'connected' : 'offline'}, approval ${g.approval}`);
  printLine(`Last seen   ${g.lastSeenAt ?? 'never'}`);
  printLine(
    `Device      ${g.device ? `${g.device.fingerprint} on ${g.device.hostname} as ${g.device.osUser}` : 'no device key recorded'}`,
  );
  printLine(`Version     ${g.version ?? '-'}`);
  if (g.agents.length === 0) return printLine('Agents      none');
  printLine(
    table([
      ['AGENT', 'TRUST', 'APPROVAL', 'PROVIDER', 'WORKDIR', 'ISOLATION'],
      ...g.agents.map((a) => [
        a.name,
        a.trust,
        a.approvalId ?? '-',
        a.binding?.provider ?? a.provider ?? '-',
        a.binding?.workdir ?? '-',
        a.binding?.isolation ?? '-',
      ]),
    ]),
  );
}

export async function listAudit(options: HubOptions & Json & { limit?: string }): Promise<void> {
  const query = options.limit ? `?limit=${encodeURIComponent(options.limit)}` : '';
  const rows = await HubClient.from(options).request('GET', `/v1/audit${query}`, z.array(auditEntrySchema));
  if (options.json) return printJson(rows);
  if (rows.length === 0) return printLine('The audit log is empty.');
  printLine(
    table([['TIME', 'ACTOR', 'ACTION', 'SUBJECT'], ...rows.map((r) => [r.ts, r.actor, r.action, r.subject])]),
  );
}
