/**
 * Codex with `--permission ask`: `codex exec` cannot ask anyone, so the run drives
 * `codex app-server` (JSON-RPC 2.0 over stdio, one message a line) instead: `initialize`,
 * `thread/start` (or `thread/resume`) with approval policy `untrusted` and the binding's sandbox,
 * then one `turn/start`. Codex's command and patch approval requests
 * (`item/commandExecution/requestApproval`, `item/fileChange/requestApproval`) go to the run's
 * permission desk, which raises a hub approval, and get `accept` or `decline`. Its notifications are
 * read as the `exec --json` events they correspond to, so both paths map to the vocabulary alike.
 * The turn's end (`turn/completed`) closes stdin, and app-server exits. A hub's run writes
 * app-server's stdin through its supervisor, so it outlives the daemon: a daemon that takes it back
 * reads the spooled lines again and this conversation goes through the same steps (what was sent
 * is not sent again, a decided approval keeps its decision, a pending one waits for the hub's).
 */
import { clip } from '@gantry/protocol';
import { jsonLine, runLineProcess } from './line-process.ts';
import type { RunOutcome, RunRequest } from './provider.ts';
import type { StdinChannel } from '../spool/spool-input.ts';

type Json = Record<string, unknown>;

/** What the exec path's event mapper takes: one `exec --json` event. */
export interface ExecEvents {
  take(event: Json): void;
  outcome(exit: Awaited<ReturnType<typeof runLineProcess>>): RunOutcome;
}

export interface AppServerRun {
  bin: string;
  request: RunRequest;
  sandbox: string;
  graces: Parameters<typeof runLineProcess>[0]['graces'];
  events: ExecEvents;
  onSpawn?: (pid: number) => void;
}

export async function runAppServer(run: AppServerRun): Promise<RunOutcome> {
  const session = new AppServerSession(run);
  const exit = await runLineProcess({
    bin: run.bin,
    // `--provider-arg`s go to app-server, which takes `-c key=value` (not exec's `-m`, `-s`).
    args: ['app-server', ...run.request.args],
    request: run.request,
    graces: run.graces,
    stdin: { asker: run.request, onInput: (input) => session.start(input) },
    ...(run.onSpawn ? { onSpawn: run.onSpawn } : {}),
    onStdout: (line) => session.line(line),
    onStderr: (line) => run.request.emit('log', { stream: 'stderr', text: line }),
  });
  return session.refusal ?? run.events.outcome(exit);
}

class AppServerSession {
  private input: StdinChannel | undefined;
  private nextId = 0;
  private readonly calls = new Map<number, (reply: Json) => void>();
  /** Items seen started, for what an approval request does not say itself (a patch's files). */
  private readonly items = new Map<string, Json>();
  private usage = { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0 };
  /** Set when Codex refused the thread to resume: the run's outcome. */
  refusal: RunOutcome | undefined;

  constructor(private readonly run: AppServerRun) {}

  start(input: StdinChannel): void {
    this.input = input;
    void this.converse().catch((err: unknown) => {
      this.run.request.emit('error', { message: `codex app-server: ${(err as Error).message}` });
      this.end();
    });
  }

  private async converse(): Promise<void> {
    const { request, sandbox } = this.run;
    await this.call('initialize', { clientInfo: { name: 'gantry', version: '1' }, capabilities: null });
    this.send({ method: 'initialized' });
    const settings = { cwd: request.workdir, approvalPolicy: 'untrusted', sandbox };
    const opened = request.resumeId
      ? await this.call('thread/resume', { threadId: request.resumeId, ...settings }, false)
      : await this.call('thread/start', settings);
    const thread = (opened.result as { thread?: { id?: string } } | undefined)?.thread;
    if (!thread?.id) {
      const message = errorOf(opened) ?? 'codex app-server opened no thread';
      this.refusal = {
        status: 'failed',
        output: '',
        exitCode: null,
        error: { code: 'resume_failed', message },
      };
      return this.end();
    }
    this.run.events.take({ type: 'thread.started', thread_id: thread.id });
    const text = request.assignment.prompt;
    await this.call('turn/start', {
      threadId: thread.id,
      input: [{ type: 'text', text, text_elements: [] }],
    });
  }

  line(line: string): void {
    const message = jsonLine(line);
    if (!message) {
      if (line.trim()) this.run.request.emit('log', { stream: 'stdout', text: line });
      return;
    }
    const { id, method } = message;
    if (typeof method === 'string' && id !== undefined) void this.serverRequest(id, method, params(message));
    else if (typeof method === 'string') this.notification(method, params(message));
    else if (typeof id === 'number') {
      this.calls.get(id)?.(message);
      this.calls.delete(id);
    }
  }

  /** Codex asks: approvals go to the permission desk; anything else is declined. */
  private async serverRequest(id: unknown, method: string, p: Json): Promise<void> {
    const ask = async (tool: string, input: string, requestId: string) =>
      this.input?.askPermission({ requestId, tool, input: clip(input, 2000) }) ?? 'denied';
    switch (method) {
      case 'item/commandExecution/requestApproval': {
        const decision = await ask('shell', commandOf(p), text(p.approvalId) || text(p.itemId));
        return this.send({ id, result: { decision: decision === 'approved' ? 'accept' : 'decline' } });
      }
      case 'item/fileChange/requestApproval': {
        const decision = await ask('apply_patch', this.patchOf(p), text(p.itemId));
        return this.send({ id, result: { decision: decision === 'approved' ? 'accept' : 'decline' } });
      }
      default:
        this.run.request.emit('log', { stream: 'provider', text: `codex asked ${method}: declined` });
        return this.send({ id, error: { code: -32601, message: `${method} is not supported by Gantry` } });
    }
  }

  private notification(method: string, p: Json): void {
    const { events } = this.run;
    switch (method) {
      case 'item/started':
      case 'item/completed': {
        const item = (p.item ?? {}) as Json;
        if (method === 'item/started') this.items.set(text(item.id), item);
        const exec = execItem(item);
        if (exec)
          events.take({ type: method === 'item/started' ? 'item.started' : 'item.completed', item: exec });
        return;
      }
      case 'item/agentMessage/delta':
        if (text(p.delta)) this.run.request.emit('message_delta', { text: text(p.delta) });
        return;
      case 'thread/tokenUsage/updated':
        return this.addUsage(((p.tokenUsage as Json | undefined)?.last ?? {}) as Json);
      case 'error':
        if (p.willRetry !== true) events.take({ type: 'error', message: errorText(p.error) });
        return;
      case 'turn/completed': {
        const turn = (p.turn ?? {}) as Json;
        if (turn.status === 'completed') events.take({ type: 'turn.completed', usage: this.usage });
        else
          events.take({
            type: 'turn.failed',
            error: { message: errorText(turn.error) || `turn ${text(turn.status)}` },
          });
        return this.end();
      }
      default:
        return;
    }
  }

  private addUsage(last: Json): void {
    const add = (key: keyof typeof this.usage, from: string) => {
      const n = last[from];
      if (typeof n === 'number') this.usage[key] += n;
    };
    add('input_tokens', 'inputTokens');
    add('cached_input_tokens', 'cachedInputTokens');
    add('output_tokens', 'outputTokens');
    add('reasoning_output_tokens', 'reasoningOutputTokens');
  }

  private patchOf(p: Json): string {
    const item = this.items.get(text(p.itemId));
    const changes = Array.isArray(item?.changes) ? (item.changes as Json[]) : [];
    const files = changes.map((c) => `${kindOf(c.kind)} ${text(c.path)}`).join(', ');
    return files || text(p.reason) || 'a patch';
  }

  private call(method: string, callParams: Json, orThrow = true): Promise<Json> {
    const id = ++this.nextId;
    return new Promise<Json>((resolve, reject) => {
      this.calls.set(id, (reply) => {
        if (orThrow && reply.error) reject(new Error(`${method} failed: ${errorOf(reply)}`));
        else resolve(reply);
      });
      this.send({ id, method, params: callParams });
    });
  }

  private send(message: Json): void {
    this.input?.write(JSON.stringify({ jsonrpc: '2.0', ...message }));
  }

  /** Closing stdin ends app-server. */
  private end(): void {
    this.input?.end();
  }
}

/** A v2 item as the `exec --json` item it corresponds to (snake_case, exec's type names). */
function execItem(item: Json): Json | undefined {
  const id = text(item.id);
  const status = text(item.status);
  switch (item.type) {
    case 'commandExecution':
      return {
        id,
        type: 'command_execution',
        command: text(item.command),
        aggregated_output: text(item.aggregatedOutput),
        exit_code: item.exitCode ?? null,
        status: status === 'inProgress' ? 'in_progress' : status,
      };
    case 'agentMessage':
      return { id, type: 'agent_message', text: text(item.text) };
    case 'fileChange': {
      const changes = Array.isArray(item.changes) ? (item.changes as Json[]) : [];
      return {
        id,
        type: 'file_change',
        status,
        changes: changes.map((c) => ({ path: text(c.path), kind: kindOf(c.kind) })),
      };
    }
    case 'mcpToolCall':
      return { ...item, id, type: 'mcp_tool_call', status };
    case 'webSearch':
      return { id, type: 'web_search', query: text(item.query) };
    default:
      return undefined;
  }
}

/** The command an approval asks about: Codex's parsed action when it has one, else the shell line. */
function commandOf(p: Json): string {
  const actions = Array.isArray(p.commandActions) ? (p.commandActions as Json[]) : [];
  const parsed = actions.map((a) => text(a.command)).filter(Boolean);
  return parsed.length > 0 ? parsed.join(' && ') : text(p.command);
}

function kindOf(kind: unknown): string {
  return text((kind as Json | undefined)?.type) || text(kind);
}

function params(message: Json): Json {
  return (message.params ?? {}) as Json;
}

function errorOf(reply: Json): string | undefined {
  const error = reply.error as Json | undefined;
  return error ? text(error.message) || JSON.stringify(error) : undefined;
}

function errorText(error: unknown): string {
  return text((error as Json | undefined)?.message);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
