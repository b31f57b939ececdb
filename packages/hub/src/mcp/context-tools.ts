/** `get_context`, `set_context`, `list_context`: the workspace's shared key/value context. */
import * as z from 'zod';
import { contextKeySchema, listContextQuerySchema, type ContextEntry } from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import type { HubContext } from '../context.ts';
import { defineTool, type ToolScope } from './tool.ts';

/** Text files up to this size come back with their content, so an agent can read them in one call. */
const inlineFileBytes = 256 * 1024;

export function contextTools(scope: ToolScope): void {
  const { ctx, caller } = scope;

  defineTool(
    scope,
    'get_context',
    {
      title: 'Read a context entry',
      description:
        'One context entry: a value (with `value`) or a file artifact (content type, size, sha256; ' +
        'a small text file also with its `value`).',
      input: { key: contextKeySchema.describe('the key') },
      readOnly: true,
    },
    async ({ key }) => ({ entry: await readEntry(ctx, caller, key) }),
  );

  defineTool(
    scope,
    'set_context',
    {
      title: 'Set a context entry',
      description: `Set a key to a text value (at most ${ctx.contextEntries.limits.maxValueBytes} bytes), replacing what it held.`,
      input: {
        key: contextKeySchema.describe('the key'),
        value: z.string().describe('the value'),
      },
    },
    async ({ key, value }) => ({ entry: await ctx.contextEntries.set(caller, key, value) }),
  );

  defineTool(
    scope,
    'list_context',
    {
      title: 'List context entries',
      description: "The workspace's context entries (values are left out: read one with get_context).",
      input: {
        prefix: listContextQuerySchema.shape.prefix.describe('only keys starting with this'),
        limit: z.number().int().min(1).max(10_000).optional().describe('at most this many'),
      },
      readOnly: true,
    },
    async (args) => ({ entries: await ctx.contextEntries.list(caller, args) }),
  );
}

async function readEntry(ctx: HubContext, caller: Caller, key: string): Promise<ContextEntry> {
  const entry = await ctx.contextEntries.get(caller, key);
  if (entry.kind !== 'file' || entry.size > inlineFileBytes || !isText(entry.contentType)) return entry;
  // Read as it is now: it may have been replaced since the lookup above.
  const opened = await ctx.contextEntries.open(caller, key);
  return { ...opened.entry, value: await new Response(opened.body).text() };
}

function isText(contentType: string): boolean {
  return /^text\/|^application\/(json|xml|yaml|x-yaml|toml)\b|\+(json|xml)\b/i.test(contentType);
}
