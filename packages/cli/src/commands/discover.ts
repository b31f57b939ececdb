/** `gantry agents discover` and `gantry agents ping NAME`: who can answer now, as the hub sees it. */
import * as z from 'zod';
import { agentReachSchema, pingResultSchema, type PingResult } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { parseDuration } from '../duration.ts';
import { ExitError, exitCodes, printJson, printLine, table } from '../output.ts';

/** What ping waits for the gateway's pong unless told. */
const defaultPingMs = 5_000;

export async function discover(options: HubOptions & { json?: boolean }): Promise<void> {
  const agents = await HubClient.from(options).request(
    'GET',
    '/v1/agents/reachability',
    z.array(agentReachSchema),
  );
  if (options.json) return printJson(agents);
  if (agents.length === 0) return printLine('No agents yet: create one with `gantry agents create NAME`.');
  printLine(
    table([
      ['NAME', 'KIND', 'REACHABILITY', 'VIA'],
      ...agents.map((a) => [
        a.agent.name,
        a.agent.kind,
        `${a.reachability}${a.paused ? ' (paused)' : ''}`,
        a.via.join(', ') || `- (${a.reason})`,
      ]),
    ]),
  );
}

export async function ping(
  name: string,
  options: HubOptions & { json?: boolean; timeout?: string },
): Promise<void> {
  const timeoutMs = options.timeout ? parseDuration(options.timeout, '--timeout') : defaultPingMs;
  if (timeoutMs > 60_000) throw new ExitError(exitCodes.usage, '--timeout is at most 60s');
  const result = await HubClient.from(options)
    .request(
      'POST',
      `/v1/agents/${encodeURIComponent(name)}/ping`,
      pingResultSchema,
      { timeoutMs },
      { timeoutMs: timeoutMs + 10_000 },
    )
    .catch((err: unknown) => {
      if ((err as Error).name !== 'TimeoutError') throw err;
      throw new ExitError(exitCodes.waitTimeout, `the hub did not answer the ping of ${name} in time`);
    });
  const code = result.timedOut
    ? exitCodes.waitTimeout
    : result.reachability === 'live'
      ? exitCodes.ok
      : exitCodes.failure;
  if (options.json) printJson(result);
  else printLine(pingLine(result, timeoutMs));
  if (code !== exitCodes.ok) throw new ExitError(code, '');
}

function pingLine(r: PingResult, timeoutMs: number): string {
  const name = r.agent.name;
  if (r.timedOut)
    return `${name}: ${r.reachability}, but gateway ${r.gateway ?? '?'} answered no ping within ${timeoutMs} ms`;
  if (r.rttMs !== null)
    return `${name}: ${r.reachability} via gateway ${r.gateway}, round trip ${r.rttMs} ms`;
  return `${name}: ${r.reachability} via ${r.via.join(', ') || '-'} (${r.reason})`;
}
