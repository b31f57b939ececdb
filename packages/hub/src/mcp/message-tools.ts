/** `send_message` and `read_inbox`: workspace chat as the caller, and the caller's mailbox. */
import * as z from 'zod';
import { inboxQuerySchema, sendMessageSchema } from '@gantry/protocol';
import { untilRevoked } from '../auth/revocation.ts';
import { defineTool, keepAlive, seconds, type ToolScope } from './tool.ts';

const maxInboxWaitSeconds = (inboxQuerySchema.shape.wait.unwrap().maxValue ?? 600_000) / 1000;

export function messageTools(scope: ToolScope): void {
  const { ctx, caller } = scope;

  defineTool(
    scope,
    'send_message',
    {
      title: 'Send a message',
      description:
        'Post a message to the workspace as yourself. `@name` in the text mentions an agent or user ' +
        '(unknown names are an error); `to` adds mentions; `parentId` replies in that thread. ' +
        'A mentioned managed agent runs the message and replies in the thread.',
      input: {
        text: sendMessageSchema.shape.body.describe('the message; `@name` mentions someone'),
        to: sendMessageSchema.shape.to.describe('agents or users (names or ids) to address'),
        parentId: sendMessageSchema.shape.parentId.describe('id of the message this replies to'),
      },
    },
    async ({ text, to, parentId }) => ({
      message: await ctx.messages.send(caller, { body: text, to, parentId }),
    }),
  );

  defineTool(
    scope,
    'read_inbox',
    {
      title: 'Read your inbox',
      description:
        'Your unread messages. With `wait` (seconds), returns the unread mail no inbox call has ' +
        'handed you yet, or waits for the next message to arrive (at most `wait` seconds; ' +
        '`timedOut: true` if none came). `markRead` marks what is returned as read.',
      input: {
        wait: z
          .number()
          .min(0)
          .max(maxInboxWaitSeconds)
          .optional()
          .describe(`seconds to wait for new mail (at most ${maxInboxWaitSeconds})`),
        markRead: z.boolean().optional().describe('mark the returned messages read'),
        limit: z.number().int().min(1).max(1000).optional().describe('at most this many messages'),
      },
      readOnly: false,
    },
    async ({ wait, markRead, limit }, extra) => {
      const stop = wait ? keepAlive(extra, 'waiting for mail') : () => {};
      try {
        // A wait ends as soon as the caller's token is revoked or expires, as on /v1.
        return await untilRevoked(ctx, caller, extra.signal, (signal) =>
          ctx.mailbox.inbox(caller, { wait: seconds(wait), markRead, limit, signal }),
        );
      } finally {
        stop();
      }
    },
  );
}
