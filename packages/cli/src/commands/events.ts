/**
 * `gantry events list`, `gantry events stream` and `gantry watch`: the workspace's activity log, its
 * newest entries and live. The live ones follow the hub's SSE stream and resume by id after a
 * dropped connection, so nothing is missed or repeated.
 */
import * as z from 'zod';
import {
  activityEventSchema,
  matchesActivityType,
  meSchema,
  parseActivityTypes,
  type ActivityEvent,
} from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { ExitError, exitCodes, printJson, printJsonLine, printLine } from '../output.ts';

export interface ListOptions extends HubOptions {
  limit: string;
  type?: string[];
  json?: boolean;
}

/** The newest entries, oldest first: `events stream --since` the last one's id goes on from there. */
export async function list(options: ListOptions): Promise<void> {
  const last = count(options.limit, '--limit');
  const query = new URLSearchParams({ last: String(last) });
  const types = parseActivityTypes(options.type ?? []);
  if (types.length > 0) query.set('type', types.join(','));
  const events = await HubClient.from(options).request(
    'GET',
    `/v1/events?${query}`,
    z.array(activityEventSchema),
  );
  if (options.json) return printJson(events);
  if (events.length === 0) return printLine(types.length > 0 ? 'No such events.' : 'No events yet.');
  const print = printer(false);
  for (const event of events) print(event);
}

export interface StreamOptions extends HubOptions {
  since?: string;
  last?: string;
  type?: string[];
  json?: boolean;
}

export async function stream(options: StreamOptions): Promise<void> {
  if (options.since !== undefined && options.last !== undefined)
    throw new ExitError(exitCodes.usage, 'give --since or --last, not both');
  const since = options.since === undefined ? undefined : parseId(options.since);
  const last = options.last === undefined ? undefined : count(options.last, '--last');
  const types = parseActivityTypes(options.type ?? []);
  const client = HubClient.from(options);
  await untilInterrupted((signal) =>
    client.followActivity({
      since,
      last,
      types,
      signal,
      onEvent: printer(options.json === true),
    }),
  );
}

/** A count of entries: a whole number from 1 to 10,000. */
function count(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new ExitError(exitCodes.usage, `${flag} must be a whole number from 1 to 10000`);
  return n;
}

export interface WatchOptions extends HubOptions {
  mention?: boolean;
  from?: string;
  contains?: string;
  event?: string[];
  count: string;
  timeout?: string;
  json?: boolean;
}

export async function watch(options: WatchOptions): Promise<void> {
  const count = Number(options.count);
  if (!Number.isInteger(count) || count < 1)
    throw new ExitError(exitCodes.usage, '--count must be a whole number of at least 1');
  const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, '--timeout');
  const types = parseActivityTypes(options.event ?? []);
  const client = HubClient.from(options);
  const me = options.mention ? (await client.request('GET', '/v1/me', meSchema)).principal : undefined;
  const matches = matcher({ ...options, types, me: me?.id });
  const print = printer(options.json === true);
  let seen = 0;
  let timedOut = false;
  const done = new AbortController();
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), done.abort()), timeoutMs);
  try {
    await untilInterrupted(
      (signal) =>
        client.followActivity({
          types: types.length > 0 ? types : options.mention ? ['message.created'] : [],
          signal,
          onEvent: (event) => {
            if (signal.aborted || !matches(event)) return;
            print(event);
            if (++seen >= count) done.abort();
          },
        }),
      done.signal,
    );
  } finally {
    clearTimeout(timer);
  }
  if (timedOut && seen < count) {
    const got = seen > 0 ? ` (${seen} of ${count} arrived)` : '';
    throw new ExitError(
      exitCodes.waitTimeout,
      `no matching event within ${formatDuration(timeoutMs ?? 0)}${got}`,
    );
  }
}

/** What `watch` waits for: every given condition must hold. */
function matcher(options: {
  types: string[];
  me?: string;
  from?: string;
  contains?: string;
}): (event: ActivityEvent) => boolean {
  const from = options.from?.replace(/^@/, '').toLowerCase();
  const needle = options.contains?.toLowerCase();
  return (event) => {
    if (!matchesActivityType(event.type, options.types)) return false;
    const message = messageOf(event);
    if (options.me !== undefined) {
      if (event.type !== 'message.created' || !message?.mentions?.some((p) => p.id === options.me))
        return false;
    }
    if (from !== undefined) {
      const actor = event.actor;
      if (!actor || (actor.id.toLowerCase() !== from && actor.name.toLowerCase() !== from)) return false;
    }
    if (needle !== undefined) {
      const haystack = typeof message?.body === 'string' ? message.body : JSON.stringify(event);
      if (!haystack.toLowerCase().includes(needle)) return false;
    }
    return true;
  };
}

function messageOf(
  event: ActivityEvent,
): { body?: unknown; mentions?: { id: string }[]; author?: { name: string } } | undefined {
  if (event.type !== 'message.created') return undefined;
  const message = event.data.message;
  return message && typeof message === 'object' ? (message as ReturnType<typeof messageOf>) : undefined;
}

/** Runs `follow` until the user presses Ctrl+C (exit 130) or `stop` aborts (a normal end). */
async function untilInterrupted(
  follow: (signal: AbortSignal) => Promise<unknown>,
  stop?: AbortSignal,
): Promise<void> {
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => ((interrupted = true), abort.abort());
  const onStop = () => abort.abort();
  process.once('SIGINT', onSigint);
  stop?.addEventListener('abort', onStop, { once: true });
  try {
    await follow(abort.signal);
  } catch (err) {
    if (interrupted) throw new ExitError(exitCodes.interrupted, '');
    if (!stop?.aborted) throw err;
  } finally {
    process.off('SIGINT', onSigint);
    stop?.removeEventListener('abort', onStop);
  }
}

/**
 * Prints entries one a line (JSON, or for people). A line for people shows the time of day (UTC):
 * entries of another day than today's come under a `-- DATE (UTC) --` line, as does a new day.
 */
function printer(json: boolean): (event: ActivityEvent) => void {
  if (json) return printJsonLine;
  let day = new Date().toISOString().slice(0, 10);
  return (event) => {
    const date = event.ts.slice(0, 10);
    if (date !== day) printLine(`-- ${date} (UTC) --`);
    day = date;
    printLine(activityLine(event));
  };
}

/** One line for people: `#ID time type actor  summary`. */
export function activityLine(event: ActivityEvent): string {
  const time = event.ts.slice(11, 19);
  const actor = event.actor ? `${event.actor.kind === 'agent' ? '@' : ''}${event.actor.name}` : '-';
  return `#${event.id} ${time} ${event.type.padEnd(20)} ${actor.padEnd(12)} ${summary(event)}`.trimEnd();
}

function summary(event: ActivityEvent): string {
  const data = event.data;
  const text = (value: unknown) => (typeof value === 'string' ? oneLine(value) : '');
  const message = messageOf(event);
  if (message) {
    const to = (message.mentions ?? []) as { name?: string }[];
    const names = to.map((p) => `@${p.name ?? '?'}`).join(' ');
    return `${names ? `→ ${names}: ` : ''}${text(message.body)}`;
  }
  if (event.type.startsWith('assignment.')) {
    const agent = (data.agent as { name?: string } | undefined)?.name;
    const error = data.error as { code?: string; message?: string } | null | undefined;
    const detail =
      text(data.message) ||
      (error ? `${error.code ?? 'error'}: ${text(error.message)}` : text(data.output) || text(data.prompt));
    return [text(data.assignmentId), agent ? `@${agent}` : '', text(data.state), detail]
      .filter(Boolean)
      .join(' ');
  }
  if (event.type === 'message.read' && Array.isArray(data.messageIds)) {
    const ids = data.messageIds.filter((id): id is string => typeof id === 'string');
    return ids.length === 1 ? `read ${ids[0]}` : `read ${ids.length} messages`;
  }
  const task = data.task as { title?: unknown; status?: unknown } | undefined;
  if (task) return [text(task.title), text(task.status)].filter(Boolean).join(' · ');
  if (typeof data.key === 'string') return data.key;
  const named = (value: unknown) => text((value as { name?: unknown } | undefined)?.name);
  const gateway = named(data.gateway);
  if (gateway) {
    const agents = Array.isArray(data.agents) ? data.agents.map((a) => `@${named(a)}`).join(' ') : '';
    return agents ? `${gateway}: ${agents}` : gateway;
  }
  const agent = named(data.agent);
  if (agent) return [`@${agent}`, text(data.assignmentId)].filter(Boolean).join(' ');
  return event.subject ?? oneLine(JSON.stringify(data));
}

function oneLine(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function parseId(text: string): number {
  if (!/^\d{1,15}$/.test(text.trim()))
    throw new ExitError(exitCodes.usage, `invalid --since '${text}': an event id (a number)`);
  return Number(text.trim());
}
