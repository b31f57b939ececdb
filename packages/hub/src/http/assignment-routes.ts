/** `/v1/assignments`: create, list, show, cancel, and events as JSON or a live SSE stream. */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import {
  cancelManySchema,
  assignmentEventsQuerySchema,
  createAssignmentSchema,
  GantryError,
  idempotencyKeyHeader,
  idempotentReplayedHeader,
  isTerminal,
  listAssignmentsQuerySchema,
  maxEventsPage,
  type AssignmentState,
} from '@gantry/protocol';
import { requireUser } from '../auth/authenticate.ts';
import { revokedEvent } from '../auth/revocation.ts';
import { refuseGateway } from '../auth/roles.ts';
import type { HubContext } from '../context.ts';
import { findAgentOrThrow } from '../domain/agents.ts';
import { createOnce } from '../domain/idempotent-create.ts';
import { assignmentView, eventView } from '../domain/views.ts';
import type { AssignmentRow, EventRow } from '../store/store.ts';
import { caller, jsonBody, query, type HubEnv } from './request.ts';
import { keepAliveMs, streamSignal } from './sse.ts';

export function assignmentRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  // A gateway takes its work over its WebSocket, never here.
  app.use('*', async (c, next) => {
    refuseGateway(caller(c), 'use assignments over REST');
    await next();
  });

  const view = async (row: AssignmentRow) => {
    const agent = await ctx.store.agents.get(row.agent_id);
    return assignmentView(row, agent ?? { id: row.agent_id, name: row.agent_id });
  };

  app.post('/', async (c) => {
    const input = await jsonBody(c, createAssignmentSchema);
    if (input.sessionKey !== undefined) await ctx.messages.checkSessionKey(caller(c), input.sessionKey);
    if (input.wait)
      await ctx.deadlocks.refuse(caller(c), await findAgentOrThrow(ctx.store, caller(c), input.agent));
    const key = idempotencyKey(c.req.header(idempotencyKeyHeader));
    if (key === undefined) return c.json(await view(await ctx.assignments.create(caller(c), input)), 201);
    const { row, replayed } = await createOnce(ctx, caller(c), input, key);
    if (replayed) c.header(idempotentReplayedHeader, 'true');
    return c.json(await view(row), 201);
  });

  app.get('/', async (c) => {
    const who = caller(c);
    requireUser(who);
    const q = query(c, listAssignmentsQuerySchema);
    const agentId = q.agent ? (await findAgentOrThrow(ctx.store, who, q.agent)).id : undefined;
    const rows = await ctx.store.assignments.list(who.workspaceId, {
      agentId,
      state: q.state,
      ...(q.chain ? { chainId: q.chain } : {}),
      limit: q.limit,
    });
    const agents = new Map((await ctx.store.agents.list(who.workspaceId)).map((a) => [a.id, a]));
    return c.json(
      rows.map((row) => assignmentView(row, agents.get(row.agent_id) ?? { id: row.agent_id, name: '?' })),
    );
  });

  app.get('/:id', async (c) => c.json(await view(await ctx.assignments.get(caller(c), c.req.param('id')))));

  app.post('/cancel', async (c) => {
    const input = await jsonBody(c, cancelManySchema);
    return c.json(
      input.chain !== undefined
        ? await ctx.stopping.cancelChain(caller(c), input.chain)
        : await ctx.stopping.cancelAll(caller(c), input.agent as string),
    );
  });

  app.post('/:id/cancel', async (c) => {
    return c.json(await view(await ctx.assignments.cancel(caller(c), c.req.param('id'))));
  });

  app.get('/:id/events', async (c) => {
    const who = caller(c);
    const row = await ctx.assignments.get(who, c.req.param('id'));
    const q = query(c, assignmentEventsQuerySchema);
    const after = parseCursor(c.req.header('last-event-id') ?? q.since);
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      // One page; when more follow, `Link: <...?since=LAST&limit=N>; rel="next"` says where.
      const limit = q.limit ?? maxEventsPage;
      const rows = await ctx.store.events.list(row.id, after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      if (rows.length > limit && last) {
        const next = new URLSearchParams({ since: `${last.attempt}:${last.seq}`, limit: String(limit) });
        c.header('Link', `</v1/assignments/${encodeURIComponent(row.id)}/events?${next}>; rel="next"`);
      }
      return c.json(page.map(eventView));
    }
    return streamSSE(c, async (stream) => {
      const live = streamSignal(ctx, who, stream);
      let cursor = after;
      let lastState: AssignmentState | undefined;
      try {
        while (!live.signal.aborted) {
          // The state is read before the events: a terminal state then means every event is stored.
          const next = await ctx.bus.watch(
            'assignment',
            ({ assignmentId }) => assignmentId === row.id,
            async () => {
              const current = await ctx.store.assignments.get(row.id);
              const events = await ctx.assignments.runEvents.list(row.id, cursor, ssePage);
              return !current || events.length > 0 || current.state !== lastState
                ? { current, events }
                : undefined;
            },
            { deadline: Date.now() + keepAliveMs, signal: live.signal },
          );
          if (!next) {
            if (!live.signal.aborted) await stream.write(': keep-alive\n\n');
            continue;
          }
          const { current, events } = next;
          if (!current) break;
          const last = events.at(-1);
          if (last) {
            await stream.write(sseEvents(events));
            cursor = { attempt: last.attempt, seq: last.seq };
            // A full page: more events may precede the state just read.
            if (events.length === ssePage) continue;
          }
          const state = current.state as AssignmentState;
          if (state !== lastState) {
            lastState = state;
            await stream.writeSSE({ event: 'state', data: JSON.stringify(await view(current)) });
          }
          if (isTerminal(state)) {
            await stream.writeSSE({ event: 'end', data: JSON.stringify(await view(current)) });
            break;
          }
        }
        const reason = live.revoked();
        if (reason) await stream.writeSSE(revokedEvent(reason));
      } finally {
        live.done();
      }
    });
  });

  return app;
}

const ssePage = 5_000;

/**
 * One SSE message per stored event, as UTF-8; its data is already JSON text, so it is not parsed
 * again. A page's events mostly share their type and time, so each is quoted once for its run of
 * equal values, and the page is encoded once here (Buffer.from beats the stream's TextEncoder).
 */
function sseEvents(rows: EventRow[]): Buffer {
  let text = '';
  let type = '';
  let typeJson = '';
  let ts = '';
  let tsJson = '';
  for (const row of rows) {
    if (row.type !== type || !typeJson) typeJson = JSON.stringify((type = row.type));
    if (row.ts !== ts || !tsJson) tsJson = JSON.stringify((ts = row.ts));
    text += `id: ${row.attempt}:${row.seq}\nevent: event\ndata: {"attempt":${row.attempt},"seq":${row.seq},"type":${typeJson},"ts":${tsJson},"data":${row.data}}\n\n`;
  }
  return Buffer.from(text);
}

/** Event positions are `attempt:seq`; a bare number is a seq of attempt 1. */
function parseCursor(value: string | undefined): { attempt: number; seq: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^(?:(\d{1,6}):)?(\d{1,12})$/.exec(value);
  if (!match)
    throw new GantryError('invalid_request', `invalid event position '${value}' (expected ATTEMPT:SEQ)`);
  return { attempt: Number(match[1] ?? 1), seq: Number(match[2]) };
}

/** An `Idempotency-Key`: 1 to 255 visible ASCII characters (a UUID, say). */
function idempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(value))
    throw new GantryError(
      'invalid_request',
      `invalid ${idempotencyKeyHeader} header: use 1 to 255 visible ASCII characters (a UUID, say)`,
    );
  return value;
}
