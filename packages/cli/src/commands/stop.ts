/**
 * Stopping many things at once: `gantry assignments cancel --agent NAME --all` or `--chain ID`, and
 * the workspace's emergency brake `gantry stop --all` with its release `gantry resume --all` (owners and admins).
 */
import {
  cancelManyResultSchema,
  resumeAllResultSchema,
  stopAllResultSchema,
  type CancelMany,
} from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { ExitError, exitCodes, printJson, printLine } from '../output.ts';

type Json = { json?: boolean };

/** `assignments cancel --agent NAME --all` or `--chain ID`. */
export async function cancelMany(body: CancelMany, options: HubOptions & Json): Promise<void> {
  const result = await HubClient.from(options).request(
    'POST',
    '/v1/assignments/cancel',
    cancelManyResultSchema,
    body,
  );
  if (options.json) return printJson(result);
  const of = body.chain ? `chain ${body.chain}` : (body.agent ?? '');
  printLine(
    result.cancelled.length === 0
      ? `${of} had nothing queued or running`
      : `cancelled ${result.cancelled.length} assignment(s) of ${of}: ${result.cancelled.join(', ')}`,
  );
}

export async function stop(options: HubOptions & Json & { all?: boolean }): Promise<void> {
  requireAll(options.all, 'stop', 'gantry agents pause NAME; one run: gantry assignments cancel ID');
  const result = await HubClient.from(options).request('POST', '/v1/stop', stopAllResultSchema, {
    all: true,
  });
  if (options.json) return printJson(result);
  const names = result.paused.map((a) => a.name).join(', ');
  printLine(`Paused ${result.paused.length} agent(s)${names ? `: ${names}` : ''}`);
  printLine(
    `Cancelled ${result.cancelled.length} assignment(s): ${result.queued} queued, ${result.running} running (their gateways stop them)`,
  );
  printLine('Undo with: gantry resume --all');
}

export async function resume(options: HubOptions & Json & { all?: boolean }): Promise<void> {
  requireAll(options.all, 'resume', 'gantry agents resume NAME');
  const result = await HubClient.from(options).request('POST', '/v1/resume', resumeAllResultSchema, {
    all: true,
  });
  if (options.json) return printJson(result);
  printLine(
    result.resumed.length === 0
      ? 'Nothing to resume: no agent is paused by `gantry stop --all`'
      : `Resumed ${result.resumed.length} agent(s): ${result.resumed.map((a) => a.name).join(', ')}`,
  );
}

function requireAll(all: boolean | undefined, command: string, one: string): void {
  if (!all) throw new ExitError(exitCodes.usage, `${command} needs --all (for one agent: ${one})`);
}
