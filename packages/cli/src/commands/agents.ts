/** `gantry agents create|pause|resume|rotate-key` (`agents list` is agents-list.ts). */
import { createdAgentSchema, pauseResultSchema, rotatedKeySchema } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { parseDuration } from '../duration.ts';
import { checkName } from '../names.ts';
import { printJson, printLine } from '../output.ts';

export async function create(
  name: string,
  options: HubOptions & { kind?: string; json?: boolean },
): Promise<void> {
  checkName('agent name', name);
  const client = HubClient.from(options);
  const kind = options.kind ?? 'managed';
  const agent = await client.request('POST', '/v1/agents', createdAgentSchema, { name, kind });
  if (options.json) return printJson(agent);
  printLine(`Created ${kind} agent ${agent.name} (${agent.id}).`);
  printLine(`Its key, shown only this once:\n\n  ${agent.key}\n`);
  if (kind === 'managed') {
    printLine(`Serve it from a machine with:`);
    printLine(`  gantry gateway run --hub ${client.url} --provider codex --api-key ${agent.key}`);
  } else if (kind === 'pass_through') {
    printLine(`Answer its mentions with:`);
    printLine(`  GANTRY_TOKEN=${agent.key} gantry listen --agent ${agent.name} --exec ./answer.sh`);
  }
}

/** `gantry agents pause NAME`: its mentions and assignments wait in the queue until resumed. */
export async function pause(name: string, options: HubOptions & { json?: boolean }): Promise<void> {
  const result = await HubClient.from(options).request(
    'POST',
    `/v1/agents/${encodeURIComponent(name)}/pause`,
    pauseResultSchema,
  );
  if (options.json) return printJson(result);
  printLine(
    `Paused ${result.agent.name}: its mentions and assignments queue (${result.queued} waiting) until \`gantry agents resume ${result.agent.name}\`.`,
  );
}

/** `gantry agents resume NAME`: what waited in its queue runs, oldest first. */
export async function resume(name: string, options: HubOptions & { json?: boolean }): Promise<void> {
  const result = await HubClient.from(options).request(
    'POST',
    `/v1/agents/${encodeURIComponent(name)}/resume`,
    pauseResultSchema,
  );
  if (options.json) return printJson(result);
  printLine(
    `Resumed ${result.agent.name}: ${result.queued} queued assignment(s) go to its gateway, oldest first.`,
  );
}

/**
 * `gantry agents rotate-key NAME`: a new key, every older one revoked at once. Gateways keep
 * serving (their gateway tokens are separate); `gateway connect` with the new key refreshes the
 * key a gateway hands its runs.
 */
export async function rotateKey(
  name: string,
  options: HubOptions & { json?: boolean; expires?: string; printKey?: boolean },
): Promise<void> {
  const body = {
    ...(options.expires ? { expiresInMs: parseDuration(options.expires, '--expires') } : {}),
    ...(options.printKey ? { printKey: true } : {}),
  };
  const rotated = await HubClient.from(options).request(
    'POST',
    `/v1/agents/${encodeURIComponent(name)}/rotate-key`,
    rotatedKeySchema,
    body,
  );
  if (options.json) return printJson(rotated);
  const until = rotated.expiresAt ? ` It expires ${rotated.expiresAt}.` : '';
  if (rotated.key)
    printLine(`New key for ${rotated.agent.name}, shown only this once:\n\n  ${rotated.key}\n`);
  else
    printLine(
      `New key for ${rotated.agent.name}, handed to gateway ${rotated.gateways.join(', ')}, which serves it; not printed (--print-key shows it).`,
    );
  if (until) printLine(until.trim());
  printLine(
    `Revoked ${rotated.revoked.length} older key(s); anything still using one is refused from now on.`,
  );
}
