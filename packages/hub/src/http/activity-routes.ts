/**
 * `/v1/events`, the workspace's activity log. `GET`: as JSON after an id (or the newest `last`) or
 * as a live SSE stream that resumes by `Last-Event-ID` (or `?since=`, or starts with the newest
 * `last`) with nothing missed and nothing repeated. `POST`: an agent reports what only it can see
 * (`gantry listen` says its local queue was full): only `listener.*` types, and only as the agent
 * itself, so no caller can forge the hub's own entries.
 */
import type { ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import {
  activityQuerySchema,
  appendEventSchema,
  GantryError,
  matchesActivityType,
  parseActivityTypes,
  listenerReported,
  type ActivityEvent,
} from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import { revokedEvent } from '../auth/revocation.ts';
import type { HubContext } from '../context.ts';
import { caller, jsonBody, query, type HubEnv } from './request.ts';
import { keepAliveMs, streamSignal } from './sse.ts';

/** Entries read from the store at a time, and so the most one stream holds in memory. */
const pageSize = 100;
/**
 * The most text one write hands on: every layer between here and the socket holds a chunk or so,
 * so small writes keep what waits for a slow client small, and let a stalled one be noticed.
 */
const writeChars = 64 * 1024;
/** A client that takes no data for this long while we have some for it is dropped; it resumes by id. */
const stallMs = 30_000;

export function activityRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  app.get('/', async (c) => {
    const who = caller(c);
    requireMember(who);
    const q = query(c, activityQuerySchema);
    const types = parseActivityTypes(c.req.queries('type') ?? []);
    const resume = parseId(c.req.header('last-event-id'));
    const since = resume ?? q.since;
    const workspaceId = who.workspaceId;

    if (q.since !== undefined && q.last !== undefined)
      throw new GantryError('invalid_request', 'give since or last, not both');
    // A stream that resumes by `Last-Event-ID` goes on from there, whatever it first asked.
    const latest =
      q.last === undefined || resume !== undefined ? undefined : await newest(ctx, who, types, q.last);
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      if (latest) return c.json(latest);
      // Without a position there is nothing "after" yet: the log starts now for this caller.
      if (since === undefined) return c.json([]);
      return c.json(await collect(ctx, who, since, types, q.limit ?? 1000));
    }

    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    return streamSSE(c, async (stream) => {
      const live = streamSignal(ctx, who, stream);
      try {
        // `last`: the stream starts with the newest `last` entries it shows.
        let cursor = latest?.[0] ? latest[0].id - 1 : (since ?? (await ctx.activity.lastId(workspaceId)));
        // Where the stream stands: a client dropped before the first entry still resumes from here.
        const ready = `id: ${cursor}\nevent: ready\ndata: {"since":${cursor}}\n\n`;
        if (!(await paced(stream, ready, outgoing))) return;
        while (!live.signal.aborted) {
          // Every entry after the cursor, a page at a time, written in small paced pieces.
          const page = await ctx.bus.watch(
            'activity',
            (event) => event.workspaceId === workspaceId,
            async () => {
              const entries = await ctx.activity.since(workspaceId, cursor, { limit: pageSize });
              return entries.length > 0 ? entries : undefined;
            },
            { deadline: Date.now() + keepAliveMs, signal: live.signal },
          );
          if (!page) {
            if (!live.signal.aborted && !(await paced(stream, ': keep-alive\n\n', outgoing))) return;
            continue;
          }
          cursor = (page.at(-1) as ActivityEvent).id;
          if (
            !(await writePage(
              stream,
              page,
              (event) => matchesActivityType(event.type, types) && visibleTo(who, event),
              outgoing,
            ))
          )
            return;
        }
        const reason = live.revoked();
        if (reason) await stream.writeSSE(revokedEvent(reason));
      } finally {
        live.done();
      }
    });
  });

  app.post('/', async (c) => {
    const who = caller(c);
    if (who.kind !== 'agent')
      throw new GantryError('forbidden', 'only an agent posts listener events (use its key)');
    const input = await jsonBody(c, appendEventSchema);
    const event = await ctx.activity.append(listenerReported, {
      workspaceId: who.workspaceId,
      type: input.type as `listener.${string}`, // the schema's pattern
      actor: { kind: 'agent', id: who.id, name: who.name },
      subject: input.subject ?? null,
      data: input.data ?? {},
    });
    return c.json(event, 201);
  });

  return app;
}

/** Users and agents of the workspace read its log; a gateway's token does not. */
function requireMember(who: Caller): void {
  if (who.kind === 'gateway')
    throw new GantryError('forbidden', 'a gateway token cannot read the activity log');
}

/**
 * Approvals are for people. A `message.created` entry carries the message's text and an `assignment.*` one its prompt or
 * output: an agent key sees the messages posted to the whole workspace (addressed to nobody), those
 * it wrote and those addressed to it, and only its own or its own requested work, so it never reads
 * another agent's mail through the log (DESIGN §5).
 */
function visibleTo(who: Caller, event: ActivityEvent): boolean {
  if (who.kind !== 'agent') return true;
  // Agent keys never read approvals (DESIGN §5), in the log either.
  if (event.type.startsWith('approval.')) return false;
  // Who read which mail is the reader's own business.
  if (event.type === 'message.read')
    return (event.data as { reader?: { id?: string } }).reader?.id === who.id;
  if (event.type.startsWith('assignment.')) {
    const agent = (event.data as { agent?: { id?: string } }).agent;
    return agent?.id === who.id || event.actor?.id === who.id;
  }
  if (event.type !== 'message.created') return true;
  const message = (event.data as { message?: { author?: { id?: string }; mentions?: { id?: string }[] } })
    .message;
  if (!message) return false;
  const to = message.mentions ?? [];
  return to.length === 0 || message.author?.id === who.id || to.some((p) => p.id === who.id);
}

/**
 * Up to `limit` entries of the given types after `since`. The type filter is applied after the
 * read, so pages are read until enough matched or the log ends.
 */
async function collect(
  ctx: HubContext,
  who: Caller,
  since: number,
  types: string[],
  limit: number,
): Promise<ActivityEvent[]> {
  const out: ActivityEvent[] = [];
  let cursor = since;
  for (;;) {
    const page = await ctx.activity.since(who.workspaceId, cursor, { limit: Math.max(limit, pageSize) });
    for (const event of page) {
      if (!matchesActivityType(event.type, types) || !visibleTo(who, event)) continue;
      out.push(event);
      if (out.length >= limit) return out;
    }
    const last = page.at(-1);
    if (!last || page.length < Math.max(limit, pageSize)) return out;
    cursor = last.id;
  }
}

/**
 * The newest `last` entries of the given types the caller may see, oldest first (read backwards a
 * page at a time until enough matched or the log's start).
 */
async function newest(ctx: HubContext, who: Caller, types: string[], last: number): Promise<ActivityEvent[]> {
  const out: ActivityEvent[] = [];
  const size = Math.max(last, pageSize);
  let before: number | undefined;
  for (;;) {
    const page = await ctx.activity.before(who.workspaceId, before, size);
    for (const event of page) {
      if (!matchesActivityType(event.type, types) || !visibleTo(who, event)) continue;
      out.push(event);
      if (out.length >= last) return out.reverse();
    }
    const oldest = page.at(-1);
    if (!oldest || page.length < size) return out.reverse();
    before = oldest.id;
  }
}

/**
 * Writes and waits until the client has taken it (hono's stream waits for the socket to drain).
 * A client that takes nothing for `stallMs` is dropped: memory stays at one page per stream.
 */
async function paced(stream: SSEStreamingApi, text: string, outgoing?: ServerResponse): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), stallMs);
  });
  const written = await Promise.race([stream.write(text).then(() => true as const), stalled]);
  clearTimeout(timer);
  if (!written) {
    stream.abort();
    outgoing?.destroy();
  }
  return written && !stream.aborted;
}

/** Writes the entries `shown` keeps in pieces of about `writeChars`; false once the client is gone. */
async function writePage(
  stream: SSEStreamingApi,
  page: ActivityEvent[],
  shown: (event: ActivityEvent) => boolean,
  outgoing?: ServerResponse,
): Promise<boolean> {
  let text = '';
  for (const event of page) {
    if (shown(event)) text += sseMessage(event);
    if (text.length < writeChars) continue;
    if (!(await paced(stream, text, outgoing))) return false;
    text = '';
  }
  return text === '' || paced(stream, text, outgoing);
}

function sseMessage(event: ActivityEvent): string {
  return `id: ${event.id}\nevent: activity\ndata: ${JSON.stringify(event)}\n\n`;
}

function parseId(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!/^\d{1,15}$/.test(value.trim()))
    throw new GantryError('invalid_request', `invalid event id '${value}' (expected a number)`);
  return Number(value.trim());
}
