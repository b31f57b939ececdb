/** `gantry assignments list|show|events|cancel`. */
import * as z from 'zod';
import {
  assignmentEventSchema,
  assignmentSchema,
  gatewaySchema,
  isTerminal,
  maxEventsPage,
  type AssignmentEvent,
} from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { ExitError, exitCodes, printJson, printJsonArray, printLine, table } from '../output.ts';
import { assignmentBlock, elapsed, eventLine } from '../render.ts';
import { awaitEnd } from './assign.ts';

type Json = { json?: boolean };

export async function list(
  options: HubOptions & Json & { agent?: string; state?: string; chain?: string; limit: string },
): Promise<void> {
  const query = new URLSearchParams({ limit: options.limit });
  if (options.agent) query.set('agent', options.agent);
  if (options.chain) query.set('chain', options.chain);
  if (options.state) query.set('state', options.state);
  const rows = await HubClient.from(options).request(
    'GET',
    `/v1/assignments?${query}`,
    z.array(assignmentSchema),
  );
  if (options.json) return printJson(rows);
  if (rows.length === 0) return printLine('No assignments.');
  printLine(
    table([
      ['ID', 'AGENT', 'STATE', 'ATTEMPT', 'DEPTH', 'TOOK', 'CREATED', 'PROMPT'],
      ...rows.map((a) => [
        a.id,
        a.agent.name,
        a.state,
        String(a.attempt),
        String(a.depth),
        elapsed(a) || '-',
        a.createdAt.slice(0, 19).replace('T', ' '),
        a.prompt.length > 40 ? `${a.prompt.slice(0, 39)}…` : a.prompt,
      ]),
    ]),
  );
}

export async function show(id: string, options: HubOptions & Json): Promise<void> {
  const client = HubClient.from(options);
  const a = await client.request('GET', `/v1/assignments/${encodeURIComponent(id)}`, assignmentSchema);
  if (options.json) return printJson(a);
  // The gateway by its name too, when the caller may read it (an agent key may not: the id then).
  const gateway = a.gatewayId
    ? await client
        .request('GET', `/v1/gateways/${encodeURIComponent(a.gatewayId)}`, gatewaySchema)
        .catch(() => undefined)
    : undefined;
  printLine(assignmentBlock(a, gateway?.name));
}

export async function events(id: string, options: HubOptions & Json & { follow?: boolean }): Promise<void> {
  const client = HubClient.from(options);
  const path = `/v1/assignments/${encodeURIComponent(id)}`;
  if (!options.follow) {
    const pages = eventPages(client, `${path}/events`);
    if (options.json) return printJsonArray(pages);
    for await (const page of pages) for (const event of page) printLine(eventLine(event));
    return;
  }
  const current = await client.request('GET', path, assignmentSchema);
  const final = await awaitEnd(client, current, { follow: true, json: options.json === true });
  if (!options.json)
    printLine(
      `— ${final.id} ${final.state}${isTerminal(final.state) && final.error ? `: ${final.error.message}` : ''}`,
    );
}

/** Every stored event, page by page: the hub answers at most `maxEventsPage` events at a time. */
async function* eventPages(client: HubClient, path: string): AsyncGenerator<AssignmentEvent[]> {
  let since: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: String(maxEventsPage), ...(since ? { since } : {}) });
    const page = await client.request('GET', `${path}?${query}`, z.array(assignmentEventSchema));
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (!last || page.length < maxEventsPage) return;
    since = `${last.attempt}:${last.seq}`;
  }
}

export async function cancel(
  id: string | undefined,
  options: HubOptions & Json & { agent?: string; all?: boolean; chain?: string },
): Promise<void> {
  const many = [options.agent !== undefined || options.all, options.chain !== undefined];
  if (id === undefined || many.some(Boolean)) {
    const ways = [id !== undefined, ...many].filter(Boolean).length;
    if (ways !== 1 || (many[0] && !(options.agent && options.all)))
      throw new ExitError(exitCodes.usage, 'give one of: an assignment ID, --agent NAME --all, --chain ID');
    const { cancelMany } = await import('./stop.ts');
    return cancelMany(
      options.chain ? { chain: options.chain } : { agent: options.agent as string, all: true },
      options,
    );
  }
  const a = await HubClient.from(options).request(
    'POST',
    `/v1/assignments/${encodeURIComponent(id)}/cancel`,
    assignmentSchema,
  );
  if (options.json) return printJson(a);
  printLine(
    a.state === 'cancelling'
      ? `${a.id} is cancelling: its gateway is stopping the run (follow: gantry assignments events ${a.id} --follow)`
      : `${a.id} ${a.state}`,
  );
}
