/**
 * `assign`: give an agent work, and optionally wait for its end. `handoff`: owned work for an agent
 * (a task and a message asking it) and a wait for its reply, as `gantry handoff` does.
 */
import * as z from 'zod';
import {
  createAssignmentSchema,
  createHandoffSchema,
  durationLimits,
  GantryError,
  handoffLoopSchema,
  isTerminal,
  maxMessageBytes,
  type AssignmentState,
} from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import { untilRevoked } from '../auth/revocation.ts';
import type { HubContext } from '../context.ts';
import { assignmentView } from '../domain/views.ts';
import type { AssignmentRow } from '../store/store.ts';
import { defineTool, keepAlive, seconds, type ToolScope } from './tool.ts';

/** The longest a tool call waits for work to end; past it, follow the assignment another way. */
export const maxWorkWaitSeconds = 3600;
/** As `gantry handoff`'s defaults. */
const defaultHandoffWaitSeconds = 300;
const defaultMaxRounds = 5;

export function workTools(scope: ToolScope): void {
  const { ctx, caller } = scope;

  defineTool(
    scope,
    'assign',
    {
      title: 'Give an agent work',
      description:
        'Create an assignment for a managed agent: a gateway runs `prompt` through its provider. ' +
        'Returns the assignment; with `wait` (seconds) returns once it ended (with its result) or ' +
        'when the wait runs out (`timedOut: true`, the work goes on).',
      input: {
        agent: createAssignmentSchema.shape.agent.describe('agent name or id'),
        prompt: createAssignmentSchema.shape.prompt.describe('what to do'),
        sessionKey: createAssignmentSchema.shape.sessionKey.describe('conversation key (default "default")'),
        continue: z.boolean().optional().describe("continue the agent's conversation for the session key"),
        timeoutSeconds: z
          .number()
          .positive()
          .max(durationLimits.maxTimeoutMs / 1000)
          .optional()
          .describe('run timeout in seconds (default 3600)'),
        wait: z
          .number()
          .min(0)
          .max(maxWorkWaitSeconds)
          .optional()
          .describe(`seconds to wait for the end (at most ${maxWorkWaitSeconds})`),
      },
    },
    async (args, extra) => {
      if (args.sessionKey !== undefined) await ctx.messages.checkSessionKey(caller, args.sessionKey);
      const created = await ctx.assignments.create(caller, {
        agent: args.agent,
        prompt: args.prompt,
        sessionKey: args.sessionKey,
        mode: args.continue ? 'continue' : 'new',
        timeoutMs: seconds(args.timeoutSeconds),
      });
      if (args.wait === undefined) return { assignment: await view(ctx, created) };
      const stop = keepAlive(extra, `waiting for ${created.id}`);
      try {
        // A wait ends as soon as the caller's token is revoked or expires, as on /v1.
        const row = await untilRevoked(ctx, caller, extra.signal, (signal) =>
          waitForEnd(ctx, caller, created.id, seconds(args.wait) ?? 0, signal),
        );
        return { assignment: await view(ctx, row), timedOut: !isTerminal(row.state as AssignmentState) };
      } finally {
        stop();
      }
    },
  );
  const handoff = createHandoffSchema.shape;
  defineTool(
    scope,
    'handoff',
    {
      title: 'Hand work to an agent',
      description:
        'Hand a task to an agent and wait for its reply, as `gantry handoff` does: creates a task ' +
        'assigned to it and a message asking it (the intent sets priority and framing), then waits. ' +
        'If the agent is not live now (adaptive wait) it returns `queued_not_listening` at once and ' +
        'the work waits in its queue. With `completionPromise` it re-prompts in the thread until a ' +
        'reply says <promise>TEXT</promise> or `maxRounds`. Status: replied, timeout, ' +
        'queued_not_listening, loop_complete or loop_max_rounds. To go on with an earlier handoff, ' +
        'pass its `handoffId` (and `text` to reply in its thread) instead of `agent` and `task`.',
      input: {
        agent: handoff.agent.optional().describe('agent name or id (a new handoff)'),
        task: handoff.prompt.optional().describe('what to do (a new handoff)'),
        intent: handoff.intent.describe('general (default), review, implement, qa, status or incident'),
        timeoutSeconds: z
          .number()
          .min(0)
          .max(maxWorkWaitSeconds)
          .optional()
          .describe(`seconds to wait for the reply (default ${defaultHandoffWaitSeconds})`),
        adaptiveWait: z
          .boolean()
          .optional()
          .describe('default true: when the agent is not live, queue and return at once'),
        completionPromise: handoffLoopSchema.shape.promise
          .optional()
          .describe('loop until a reply says <promise>TEXT</promise>'),
        maxRounds: handoffLoopSchema.shape.maxRounds
          .optional()
          .describe('with completionPromise: at most this many prompts (default 5)'),
        handoffId: z.string().min(1).max(64).optional().describe('an earlier handoff to go on with'),
        text: z
          .string()
          .min(1)
          .max(maxMessageBytes)
          .optional()
          .describe(
            "with handoffId: a reply in the handoff's thread; without, wait again for the reply to its latest prompt",
          ),
      },
    },
    async (args, extra) => {
      const wait = seconds(args.timeoutSeconds ?? defaultHandoffWaitSeconds) ?? 0;
      const stop = keepAlive(extra, 'waiting for the reply');
      try {
        // A wait ends as soon as the caller's token is revoked or expires, as on /v1.
        return await untilRevoked(ctx, caller, extra.signal, async (signal) => {
          if (args.handoffId !== undefined) {
            if (args.agent !== undefined || args.task !== undefined || args.completionPromise !== undefined)
              throw usage('`handoffId` goes on with an earlier handoff: leave out agent, task and the loop');
            const options = { wait, signal };
            return {
              handoff:
                args.text === undefined
                  ? await ctx.handoffs.wait(caller, args.handoffId, options)
                  : await ctx.handoffs.say(caller, args.handoffId, args.text, options),
            };
          }
          if (args.agent === undefined || args.task === undefined)
            throw usage('a handoff needs `agent` and `task` (or `handoffId` to go on with one)');
          if (args.text !== undefined)
            throw usage('`text` replies in an earlier handoff: pass its `handoffId`');
          if (args.maxRounds !== undefined && args.completionPromise === undefined)
            throw usage('`maxRounds` goes with `completionPromise`');
          const loop =
            args.completionPromise === undefined
              ? undefined
              : { promise: args.completionPromise, maxRounds: args.maxRounds ?? defaultMaxRounds };
          const created = await ctx.handoffs.create(
            caller,
            {
              agent: args.agent,
              prompt: args.task,
              intent: args.intent,
              waitMs: wait,
              adaptive: args.adaptiveWait,
              ...(loop ? { loop } : {}),
            },
            signal,
          );
          return { handoff: created };
        });
      } finally {
        stop();
      }
    },
  );
}

const usage = (message: string) => new GantryError('invalid_request', message);

async function view(ctx: HubContext, row: AssignmentRow) {
  const agent = await ctx.store.agents.get(row.agent_id);
  return assignmentView(row, agent ?? { id: row.agent_id, name: row.agent_id });
}

/** The assignment once it is terminal, or as it is when `ms` ran out or `signal` fired. */
export async function waitForEnd(
  ctx: HubContext,
  caller: Caller,
  id: string,
  ms: number,
  signal: AbortSignal,
): Promise<AssignmentRow> {
  const ended = await ctx.bus.watch(
    'assignment',
    ({ assignmentId }) => assignmentId === id,
    async () => {
      const row = await ctx.assignments.get(caller, id);
      return isTerminal(row.state as AssignmentState) ? row : undefined;
    },
    { deadline: Date.now() + ms, signal },
  );
  return ended ?? (await ctx.assignments.get(caller, id));
}
