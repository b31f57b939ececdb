/**
 * Pass-through agents (DESIGN §5): folders on this machine registered with the hub through this
 * gateway, each speaking for one agent. The gateway registers a folder with its own token, asks
 * whether a person approved it, then keeps the agent's key in `local-agents.json` (0600) and acts
 * as that agent for `gantry local ...` and `gantry mcp` run in the folder. The key never leaves
 * the gateway: requests are forwarded to the hub with it.
 */
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import * as z from 'zod';
import {
  connectFolderResultSchema,
  errorBodySchema,
  folderSchema,
  folderStatuses,
  GantryError,
  localConnectSchema,
  localRegisterSchema,
  parseOrThrow,
  type ErrorCode,
  type Folder,
  type LocalFolder,
} from '@gantry/protocol';
import { readJsonFile, writeSecretJson } from '@gantry/protocol/node';
import type { GantryPaths } from '@gantry/protocol/node';
import type { GatewaySession } from './session-file.ts';

const stateSchema = z.object({
  folders: z.array(
    z.object({
      workdir: z.string(),
      id: z.string(),
      agent: z.object({ id: z.string(), name: z.string() }),
      approvalId: z.string(),
      status: z.enum(folderStatuses),
      hubUrl: z.string(),
      gatewayId: z.string(),
      key: z.string().optional(),
    }),
  ),
});
type Registration = z.infer<typeof stateSchema>['folders'][number];

/** Hub paths a folder's agent may reach through the gateway: its mail, messages and MCP tools. */
const forwardable = [
  /^\/v1\/inbox$/,
  /^\/v1\/messages(\/[\w-]+(\/(read|reply))?)?$/,
  /^\/v1\/me$/,
  /^\/v1\/tasks$/,
  /^\/mcp$/,
];
/** Request headers passed on to the hub (MCP's session and protocol headers among them). */
const passedHeaders = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id'];
/** Response headers passed back. */
const returnedHeaders = ['content-type', 'mcp-session-id', 'cache-control'];

export class LocalAgents {
  private readonly file: string;

  constructor(
    paths: GantryPaths,
    private readonly session: () => GatewaySession,
    /** Where hub calls go: the URL of the system the gateway is connected to now. */
    private readonly hubUrl: () => string = () => session().serverUrl,
  ) {
    this.file = join(paths.config, 'local-agents.json');
  }

  private load(): Registration[] {
    return readJsonFile(this.file, stateSchema)?.folders ?? [];
  }

  private save(folders: Registration[]): void {
    writeSecretJson(this.file, { folders });
  }

  private find(workdir: string): Registration | undefined {
    const { serverUrl } = this.session();
    return this.load().find((f) => f.workdir === resolve(workdir) && f.hubUrl === serverUrl);
  }

  private store(reg: Registration): void {
    this.save([...this.load().filter((f) => !(f.workdir === reg.workdir && f.hubUrl === reg.hubUrl)), reg]);
  }

  /** `POST /api/local/agents`: registers the folder with the hub (pending until approved). */
  async register(name: string, workdir: string): Promise<LocalFolder> {
    const dir = resolve(workdir);
    const known = this.find(dir);
    if (known && known.agent.name !== name) {
      throw new GantryError(
        'conflict',
        `${dir} is already registered as agent '${known.agent.name}': one folder speaks for one agent`,
      );
    }
    const body = { name, workdir: dir, host: hostname(), osUser: userInfo().username };
    const folder = folderSchema.parse(await this.hub('POST', '/v1/gateways/folders', body));
    const reg: Registration = {
      ...fromFolder(folder, this.session()),
      ...(known?.key ? { key: known.key } : {}),
    };
    this.store(reg);
    return view(reg);
  }

  /** `POST /api/local/agents/connect`: asks the hub whether a person decided; takes the key once approved. */
  async connect(workdir: string): Promise<LocalFolder> {
    const reg = this.require(workdir);
    const answer = connectFolderResultSchema.parse(
      await this.hub('POST', `/v1/gateways/folders/${reg.id}/connect`, { needKey: !reg.key }),
    );
    const next: Registration = { ...fromFolder(answer.folder, this.session()) };
    const key = answer.key ?? reg.key;
    if (key && next.status === 'connected') next.key = key;
    this.store(next);
    return view(next);
  }

  private require(workdir: string): Registration {
    const reg = this.find(workdir);
    if (!reg) {
      throw new GantryError(
        'not_found',
        `${resolve(workdir)} is not registered with this gateway: run \`gantry local init NAME\` there`,
      );
    }
    return reg;
  }

  /** The folder's key, or why it cannot act yet. */
  private keyOf(workdir: string): string {
    const reg = this.require(workdir);
    if (reg.status === 'connected' && reg.key) return reg.key;
    const why =
      reg.status === 'denied'
        ? `was denied (approval ${reg.approvalId})`
        : `is not connected yet: run \`gantry local connect\` (approval ${reg.approvalId})`;
    throw new GantryError('forbidden', `the folder's agent '${reg.agent.name}' ${why}`);
  }

  /**
   * Forwards a request to the hub as the folder's agent and streams the answer back (a long-poll,
   * an MCP event stream). The caller going away ends the hub request.
   */
  async forward(req: IncomingMessage, res: ServerResponse, hubPath: string, search: string): Promise<void> {
    if (!forwardable.some((p) => p.test(hubPath)))
      throw new GantryError('not_found', `the local API does not forward ${hubPath}`);
    const workdir = req.headers['x-gantry-folder'];
    if (typeof workdir !== 'string' || !workdir)
      throw new GantryError('invalid_request', 'the X-Gantry-Folder header names the registered folder');
    const key = this.keyOf(workdir);
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD' && method !== 'DELETE';
    if (hasBody && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      throw new GantryError('invalid_request', 'the body must be JSON (Content-Type: application/json)');
    }
    const headers = new Headers({ authorization: `Bearer ${key}` });
    for (const name of passedHeaders) {
      const value = req.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    let response: Response;
    try {
      response = await fetch(`${this.hubUrl()}${hubPath}${search}`, {
        method,
        headers,
        ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
        signal: abort.signal,
      } as RequestInit);
    } catch (err) {
      if (abort.signal.aborted) return;
      throw unreachable(this.hubUrl(), err);
    }
    const out: Record<string, string> = {};
    for (const name of returnedHeaders) {
      const value = response.headers.get(name);
      if (value !== null) out[name] = value;
    }
    res.writeHead(response.status, out);
    if (!response.body) return void res.end();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
    } catch {
      // The caller or the hub went away mid-stream: nothing is left to tell either.
    }
    res.end();
  }

  /** A request to the hub with the gateway's token. */
  private async hub(method: string, path: string, body: unknown): Promise<unknown> {
    const session = this.session();
    const url = this.hubUrl();
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${session.gatewayToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw unreachable(url, err);
    }
    const json: unknown = await response.json().catch(() => undefined);
    if (response.ok) return json;
    const error = errorBodySchema.safeParse(json);
    if (!error.success) throw new GantryError('internal', `the hub answered HTTP ${response.status}`);
    throw new GantryError(error.data.error.code as ErrorCode, error.data.error.message);
  }
}

/** The local API's routes for pass-through folders: `POST /api/local/agents[/connect]`, `/api/local/hub/*`. */
export async function localAgentRoute(
  agents: LocalAgents,
  req: IncomingMessage,
  res: ServerResponse,
  readJson: (req: IncomingMessage) => Promise<unknown>,
  send: (res: ServerResponse, status: number, body: unknown) => void,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = `${req.method} ${url.pathname}`;
  if (route === 'POST /api/local/agents') {
    const input = parseOrThrow(localRegisterSchema, await readJson(req), 'body');
    send(res, 200, await agents.register(input.name, input.workdir));
    return true;
  }
  if (route === 'POST /api/local/agents/connect') {
    const input = parseOrThrow(localConnectSchema, await readJson(req), 'body');
    send(res, 200, await agents.connect(input.workdir));
    return true;
  }
  if (url.pathname.startsWith('/api/local/hub/')) {
    await agents.forward(req, res, url.pathname.slice('/api/local/hub'.length), url.search);
    return true;
  }
  return false;
}

function fromFolder(folder: Folder, session: GatewaySession): Registration {
  return {
    workdir: folder.workdir,
    id: folder.id,
    agent: folder.agent,
    approvalId: folder.approvalId,
    status: folder.status,
    hubUrl: session.serverUrl,
    gatewayId: folder.gatewayId,
  };
}

function view(reg: Registration): LocalFolder {
  return {
    status: reg.status,
    agent: reg.agent,
    workdir: reg.workdir,
    approvalId: reg.approvalId,
    gatewayId: reg.gatewayId,
    hubUrl: reg.hubUrl,
  };
}

function unreachable(url: string, err: unknown): GantryError {
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
  return new GantryError('unavailable', `the gateway cannot reach the hub at ${url} (${cause})`);
}
