/**
 * `gantry send`, `gantry inbox`, `gantry messages list|read`: workspace chat as the caller, and the
 * caller's mailbox. Waits are long-polls the hub answers as soon as mail (or a reply) arrives; a
 * wait longer than one request may last is several requests in a row, which the hub's delivery
 * cursor makes safe (nothing handed out twice, nothing skipped).
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import * as z from 'zod';
import {
  contextEntrySchema,
  errorBodySchema,
  GantryError,
  inboxSchema,
  messageReplySchema,
  messageSchema,
  readAllSchema,
  type Inbox,
  type Message,
  type ErrorCode,
  type SendMessage,
} from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { ExitError, exitCodes, printJson, printLine, table } from '../output.ts';
import { parseChainMaxRuns } from '../chain-max-runs.ts';
import { guessContentType } from './context.ts';
import { requireText } from '../texts.ts';

type Json = { json?: boolean };

/** The longest one long-poll request may wait: Node's fetch gives up on a response after 300 s. */
const requestWaitMs = 240_000;
/** `send --wait` with no duration. */
const defaultReplyWaitMs = 5 * 60_000;

export interface SendOptions extends HubOptions, Json {
  to?: string[];
  parent?: string;
  file?: string;
  wait?: string | boolean;
  chainMaxRuns?: string;
}

export async function send(text: string, options: SendOptions): Promise<void> {
  requireText(text, 'the message', 'write its text, like: gantry send "@reviewer please look at PR 12"');
  const waitMs =
    options.wait === undefined || options.wait === false
      ? undefined
      : options.wait === true
        ? defaultReplyWaitMs
        : parseDuration(options.wait, '--wait');
  // Refuse before sending: a message addressed to nobody can get no reply to wait for.
  if (waitMs !== undefined && !options.to?.length && !options.parent && !/(?<![\w@.])@\w/.test(text)) {
    throw new ExitError(
      exitCodes.usage,
      '--wait needs someone to answer: mention an agent (@name), or pass --to AGENT or --parent ID',
    );
  }
  const client = HubClient.from(options);
  const attachment = options.file ? await attachFile(client, options.file) : undefined;
  const body: SendMessage = {
    body: text,
    ...(options.to?.length ? { to: options.to } : {}),
    ...(options.parent ? { parentId: options.parent } : {}),
    ...(attachment ? { metadata: { attachments: [attachment] } } : {}),
  };
  const chainMaxRuns = parseChainMaxRuns(options.chainMaxRuns);
  if (chainMaxRuns !== undefined) body.chainMaxRuns = chainMaxRuns;
  const message = await client.request('POST', '/v1/messages', messageSchema, body).catch(async (err) => {
    // Not sent (an unknown @name, say): the upload was for this message only.
    if (attachment)
      await client
        .request('DELETE', `/v1/context/${encodeURIComponent(attachment.key)}`, z.unknown())
        .catch(() => undefined);
    throw err;
  });
  if (waitMs === undefined) {
    if (options.json) return printJson({ message, reply: null });
    return printLine(message.id);
  }
  const reply = await waitForReply(client, message.id, waitMs);
  if (!reply) {
    const agents = message.mentions.filter((p) => p.kind === 'agent');
    const who = (agents.length > 0 ? agents : message.mentions).map((p) => `@${p.name}`).join(', ');
    throw new ExitError(
      exitCodes.waitTimeout,
      `no reply from ${who} within ${formatDuration(waitMs)} (sent ${message.id}; ` +
        `see the thread with: gantry messages list --thread ${message.threadId})`,
      { message, reply: null },
    );
  }
  // Shown here, so read: it does not come back as unread mail in `gantry inbox` (best effort).
  await client
    .request('POST', `/v1/messages/${encodeURIComponent(reply.id)}/read`, z.unknown())
    .catch(() => undefined);
  if (options.json) return printJson({ message, reply });
  printLine(reply.body);
}

async function waitForReply(client: HubClient, id: string, waitMs: number): Promise<Message | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const wait = Math.max(0, Math.min(requestWaitMs, deadline - Date.now()));
    const answer = await client.request(
      'GET',
      `/v1/messages/${encodeURIComponent(id)}/reply?wait=${wait}`,
      messageReplySchema,
      undefined,
      { timeoutMs: wait + 30_000 },
    );
    if (answer.reply) return answer.reply;
    if (Date.now() >= deadline) return undefined;
  }
}

export async function inbox(
  options: HubOptions & Json & { wait?: string; markRead?: boolean },
): Promise<void> {
  const waitMs = options.wait === undefined ? undefined : parseDuration(options.wait, '--wait');
  const client = HubClient.from(options);
  const box = await readInbox(client, { waitMs, markRead: options.markRead === true });
  if (options.json) return printJson(box);
  if (box.messages.length === 0) {
    return printLine(
      waitMs === undefined ? 'No unread messages.' : `No new messages in ${formatDuration(waitMs)}.`,
    );
  }
  printLine(messageTable(box.messages, false));
}

/** The caller's inbox; with `waitMs`, as many long-polls as that takes, until mail comes or time runs out. */
async function readInbox(client: HubClient, options: { waitMs?: number; markRead: boolean }): Promise<Inbox> {
  const query = new URLSearchParams();
  if (options.markRead) query.set('markRead', 'true');
  if (options.waitMs === undefined) return client.request('GET', `/v1/inbox?${query}`, inboxSchema);
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const wait = Math.max(0, Math.min(requestWaitMs, deadline - Date.now()));
    query.set('wait', String(wait));
    const box = await client.request('GET', `/v1/inbox?${query}`, inboxSchema, undefined, {
      timeoutMs: wait + 30_000,
    });
    if (box.messages.length > 0 || Date.now() >= deadline) return box;
  }
}

export async function list(
  options: HubOptions & Json & { unread?: boolean; markRead?: boolean; thread?: string; limit?: string },
): Promise<void> {
  const query = new URLSearchParams();
  if (options.unread) query.set('unread', 'true');
  if (options.markRead) query.set('markRead', 'true');
  if (options.thread) query.set('thread', options.thread);
  if (options.limit) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new ExitError(exitCodes.usage, '--limit must be a whole number from 1 to 1000');
    query.set('limit', String(limit));
  }
  const messages = await HubClient.from(options).request(
    'GET',
    `/v1/messages?${query}`,
    z.array(messageSchema),
  );
  if (options.json) return printJson(messages);
  if (messages.length === 0) return printLine(options.unread ? 'No unread messages.' : 'No messages.');
  printLine(messageTable(messages, true));
}

export async function read(
  id: string | undefined,
  options: HubOptions & Json & { all?: boolean },
): Promise<void> {
  if ((id === undefined) === !options.all)
    throw new ExitError(exitCodes.usage, 'give a message ID or --all (not both)');
  const client = HubClient.from(options);
  if (options.all) {
    const { marked } = await client.request('POST', '/v1/messages/read-all', readAllSchema);
    if (options.json) return printJson({ marked });
    return printLine(`Marked ${marked} message${marked === 1 ? '' : 's'} read.`);
  }
  const message = await client.request(
    'POST',
    `/v1/messages/${encodeURIComponent(id ?? '')}/read`,
    messageSchema,
  );
  if (options.json) return printJson(message);
  printLine(`${message.id} read`);
}

/**
 * Author, time, first line of the body (and attachments), id, chain (`-` for a message that starts
 * its own) and depth; `*` marks unread ones in a listing.
 */
function messageTable(messages: Message[], markUnread: boolean): string {
  return table([
    [...(markUnread ? [''] : []), 'FROM', 'TIME', 'MESSAGE', 'ID', 'CHAIN', 'DEPTH'],
    ...messages.map((m) => [
      ...(markUnread ? [m.read === false ? '*' : ''] : []),
      m.author.name,
      localTime(m.createdAt),
      firstLine(m),
      m.id,
      m.chainId === m.id ? '-' : m.chainId,
      String(m.depth),
    ]),
  ]);
}

function firstLine(m: Message): string {
  const line = m.body.split('\n', 1)[0] ?? '';
  const text = line.length > 60 || m.body.includes('\n') ? `${line.slice(0, 59)}…` : line;
  const files = attachmentKeys(m);
  return files.length > 0 ? `${text} [file: ${files.join(', ')}]` : text;
}

function attachmentKeys(m: Message): string[] {
  const parsed = z.array(z.object({ key: z.string() })).safeParse(m.metadata.attachments);
  return parsed.success ? parsed.data.map((a) => a.key) : [];
}

/** `2025-01-31 14:02:07` in the local time zone. */
function localTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * `send --file`: the file goes to the workspace context (streamed, under `attachments/…`) and the
 * message carries its key in `metadata.attachments`, so anyone can `gantry context download` it.
 */
async function attachFile(client: HubClient, path: string): Promise<Attachment> {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ExitError(exitCodes.usage, `--file ${path} is not a file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof ExitError) throw err;
    throw new ExitError(
      exitCodes.usage,
      `cannot read --file ${path} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const name =
    basename(path)
      .replace(/[^\w.-]+/g, '_')
      .slice(-150) || 'file';
  const key = `attachments/${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}/${name}`;
  const contentType = guessContentType(name);
  let response: Response;
  try {
    response = await fetch(`${client.url}/v1/context/${encodeURIComponent(key)}/file`, {
      method: 'PUT',
      headers: {
        'content-type': contentType,
        'content-length': String(size),
        ...(client.hub.token ? { authorization: `Bearer ${client.hub.token}` } : {}),
      },
      body: Readable.toWeb(createReadStream(path)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new GantryError('unavailable', `cannot reach the hub at ${client.url} (${cause})`);
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = errorBodySchema.safeParse(json);
    if (!error.success) throw new GantryError('internal', `the hub answered HTTP ${response.status}`);
    throw new GantryError(
      error.data.error.code as ErrorCode,
      `cannot attach ${path}: ${error.data.error.message}`,
    );
  }
  const entry = contextEntrySchema.parse(json);
  return { key: entry.key, name, contentType: entry.contentType, size: entry.size, sha256: entry.sha256 };
}

interface Attachment {
  key: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string | null;
}
