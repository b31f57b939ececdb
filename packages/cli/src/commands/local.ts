/**
 * `gantry local init|connect|inbox|send|tasks`: a pass-through agent (DESIGN §5) — a session in a
 * terminal that polls instead of running under the gateway. A folder is registered once (it
 * starts pending until a person approves it), then commands run in it, or below it, act as its
 * agent through the local gateway, which holds the agent's key. Other commands in the folder
 * still act as the logged-in user.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import {
  inboxSchema,
  localFolderSchema,
  messageSchema,
  taskSchema,
  type Inbox,
  type LocalFolder,
  type SendMessage,
} from '@gantry/protocol';
import { findFolderConfig, writeFolderConfig, type FolderConfig } from '../folder-config.ts';
import { formatDuration, parseDuration } from '../duration.ts';
import { findLocalGateway, localRequest, type LocalGateway } from '../local-gateway.ts';
import { ExitError, exitCodes, printJson, printLine, table } from '../output.ts';

interface Where {
  workdir?: string;
  json?: boolean;
}

/** The longest one long-poll may wait: Node's fetch gives up on a response after 300 s. */
const requestWaitMs = 240_000;

export async function init(name: string, options: Where): Promise<void> {
  const root = resolve(options.workdir ?? process.cwd());
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new ExitError(exitCodes.usage, `${root} is not a folder`);
  const existing = findFolderConfig(root);
  if (existing?.root === root && existing.agent !== name) {
    throw new ExitError(
      exitCodes.failure,
      `${root} is already registered as agent '${existing.agent}': one folder speaks for one agent`,
    );
  }
  const gateway = findLocalGateway();
  const folder = await localRequest(gateway, 'POST', '/api/local/agents', localFolderSchema, {
    body: { name, workdir: root },
  });
  const file = writeFolderConfig(root, {
    agent: folder.agent.name,
    hubUrl: folder.hubUrl,
    gatewayId: folder.gatewayId,
  });
  const out = withNext(folder);
  if (options.json) return printJson({ ...out, config: file });
  printLine(`Registered ${root} as agent '${folder.agent.name}' (${file}).`);
  printStatus(out);
}

export async function connect(options: Where): Promise<void> {
  const config = folderOf(options);
  const folder = await localRequest(
    findLocalGateway(),
    'POST',
    '/api/local/agents/connect',
    localFolderSchema,
    {
      body: { workdir: config.root },
    },
  );
  const out = withNext(folder);
  if (folder.status === 'denied') {
    throw new ExitError(
      exitCodes.auth,
      options.json
        ? ''
        : `the folder's agent '${folder.agent.name}' was denied (approval ${folder.approvalId})`,
      out,
    );
  }
  if (options.json) return printJson(out);
  printStatus(out);
}

export async function inbox(options: Where & { wait?: string; markRead?: boolean }): Promise<void> {
  const waitMs = options.wait === undefined ? undefined : parseDuration(options.wait, '--wait');
  const config = folderOf(options);
  const gateway = findLocalGateway();
  const box = await readInbox(gateway, config, waitMs, options.markRead === true);
  if (options.json) return printJson(box);
  if (box.messages.length === 0) {
    return printLine(
      waitMs === undefined ? 'No unread messages.' : `No new messages in ${formatDuration(waitMs)}.`,
    );
  }
  printLine(
    table([
      ['FROM', 'MESSAGE', 'ID'],
      ...box.messages.map((m) => [m.author.name, m.body.split('\n', 1)[0] ?? '', m.id]),
    ]),
  );
}

async function readInbox(
  gateway: LocalGateway,
  config: FolderConfig,
  waitMs: number | undefined,
  markRead: boolean,
): Promise<Inbox> {
  const query = new URLSearchParams();
  if (markRead) query.set('markRead', 'true');
  const get = (timeoutMs?: number) =>
    localRequest(gateway, 'GET', `/api/local/hub/v1/inbox?${query}`, inboxSchema, {
      folder: config.root,
      ...(timeoutMs ? { timeoutMs } : {}),
    });
  if (waitMs === undefined) return get();
  const deadline = Date.now() + waitMs;
  for (;;) {
    const wait = Math.max(0, Math.min(requestWaitMs, deadline - Date.now()));
    query.set('wait', String(wait));
    const box = await get(wait + 30_000);
    if (box.messages.length > 0 || Date.now() >= deadline) return box;
  }
}

export async function send(text: string, options: Where & { to?: string[]; parent?: string }): Promise<void> {
  const config = folderOf(options);
  const body: SendMessage = {
    body: text,
    ...(options.to?.length ? { to: options.to } : {}),
    ...(options.parent ? { parentId: options.parent } : {}),
  };
  const message = await localRequest(
    findLocalGateway(),
    'POST',
    '/api/local/hub/v1/messages',
    messageSchema,
    {
      body,
      folder: config.root,
    },
  );
  if (options.json) return printJson(message);
  printLine(message.id);
}

/** `gantry local tasks`: the tasks assigned to the folder's agent (newest first). */
export async function tasks(options: Where & { status?: string }): Promise<void> {
  const config = folderOf(options);
  const query = new URLSearchParams({ mine: 'true' });
  if (options.status) query.set('status', options.status);
  const rows = await localRequest(
    findLocalGateway(),
    'GET',
    `/api/local/hub/v1/tasks?${query}`,
    z.array(taskSchema),
    {
      folder: config.root,
    },
  );
  if (options.json) return printJson(rows);
  if (rows.length === 0) return printLine('No tasks for this agent.');
  printLine(
    table([
      ['ID', 'STATUS', 'PRIORITY', 'FROM', 'TITLE'],
      ...rows.map((t) => [t.id, t.status, t.priority, t.createdBy.name, t.title]),
    ]),
  );
}

/** The registration of `--workdir` or the current folder (or the nearest one above). */
export function folderOf(options: Where): FolderConfig {
  const start = resolve(options.workdir ?? process.cwd());
  const config = findFolderConfig(start);
  if (!config) {
    throw new ExitError(
      exitCodes.notFound,
      `${start} is not in a registered folder (no .gantry/config.toml here or above): run \`gantry local init NAME\``,
    );
  }
  return config;
}

function withNext(folder: LocalFolder) {
  if (folder.status !== 'pending') return folder;
  return { ...folder, next: `ask an owner or admin: gantry approvals approve ${folder.approvalId}` };
}

function printStatus(folder: LocalFolder & { next?: string }): void {
  if (folder.status === 'connected')
    return printLine(`Connected: this folder acts as '${folder.agent.name}'.`);
  if (folder.status === 'denied') return printLine(`Denied (approval ${folder.approvalId}).`);
  printLine(`Pending approval ${folder.approvalId}: ${folder.next ?? ''}`);
  printLine('Then run `gantry local connect`.');
}
