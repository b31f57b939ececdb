/**
 * The daemon's side of a spooled run's stdin (a protocol over stdio: ACP, codex app-server): lines
 * go to the supervisor's `in.sock`, which writes them to the provider and spools them (`{"i":...}`)
 * in order with its output. A daemon that takes the run back replays the output from the start, so
 * the provider's code runs the conversation again: the writes an earlier daemon made (counted in
 * the spool) are not sent twice, and a permission request an earlier daemon answered gets the same
 * answer (its note, `{"n":{"permission":n,...}}`) without asking the hub again. A request still
 * waiting is asked again: the hub's pending approval and its decision reach this daemon.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { PermissionRequest, RunRequest } from '../providers/provider.ts';
import { defaultPermissionPolicy } from '../providers/settings.ts';

type Decision = 'approved' | 'denied';

/** Writing to the provider's stdin, and asking permissions, the same on pipes and through a supervisor. */
export interface StdinChannel {
  /** One line (without its newline). */
  write(line: string): void;
  /** Closes the provider's stdin. */
  end(): void;
  askPermission(request: PermissionRequest): Promise<Decision>;
}

/** What a provider over stdio asks permissions with. */
export type PermissionAsker = Pick<RunRequest, 'emit' | 'requestPermission' | 'settings'>;

/** What earlier daemons sent a spooled run: how many lines, and the permission decisions made. */
export interface SentBefore {
  writes: number;
  decisions: Map<number, Decision>;
}

export const nothingSent: SentBefore = { writes: 0, decisions: new Map() };

/** Reads what was sent from the run's `output.jsonl` (as far as it is written now). */
export function sentBefore(dir: string): SentBefore {
  const sent: SentBefore = { writes: 0, decisions: new Map() };
  let text = '';
  try {
    text = readFileSync(join(dir, 'output.jsonl'), 'utf8');
  } catch {
    return sent;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"i":') && !line.startsWith('{"n":')) continue;
    try {
      const record = JSON.parse(line) as { i?: unknown; n?: { permission?: unknown; decision?: unknown } };
      if (typeof record.i === 'string') sent.writes += 1;
      const note = record.n;
      if (
        typeof note?.permission === 'number' &&
        (note.decision === 'approved' || note.decision === 'denied')
      )
        sent.decisions.set(note.permission, note.decision);
    } catch {
      // a torn last line
    }
  }
  return sent;
}

/** The supervisor's socket: by its path, or (too long for a socket's name) through its working folder. */
function socketPath(dir: string, supervisor: number): string {
  const path = join(dir, 'in.sock');
  if (Buffer.byteLength(path) < 100 || process.platform !== 'linux') return path;
  return `/proc/${supervisor}/cwd/in.sock`;
}

export class SpoolInput implements StdinChannel {
  private socket: Socket | undefined;
  private gone = false;
  private writes = 0;
  private asks = 0;

  constructor(
    private readonly dir: string,
    private readonly supervisor: number,
    private readonly sent: SentBefore,
    private readonly asker: PermissionAsker,
    private readonly leave: AbortSignal,
  ) {
    leave.addEventListener('abort', () => this.close(), { once: true });
  }

  write(line: string): void {
    this.writes += 1;
    if (this.writes <= this.sent.writes) return; // an earlier daemon sent it
    this.send({ w: line });
  }

  end(): void {
    this.send({ end: true });
  }

  async askPermission(request: PermissionRequest): Promise<Decision> {
    const n = ++this.asks;
    const before = this.sent.decisions.get(n);
    if (before) {
      // Answered before the daemon changed: the same answer, and the same events (already on the hub).
      const { requestId, tool, input } = request;
      const by = (this.asker.settings.permission ?? defaultPermissionPolicy) === 'ask' ? 'user' : 'policy';
      this.asker.emit('permission_requested', { requestId, tool, input });
      this.asker.emit('permission_decided', { requestId, decision: before, by });
      return before;
    }
    const decision = await this.asker.requestPermission(request);
    // Noted before the provider writes its answer, so the next daemon finds it in order.
    this.send({ n: { permission: n, requestId: request.requestId, decision } });
    return decision;
  }

  close(): void {
    this.gone = true;
    this.socket?.end();
  }

  private send(message: Record<string, unknown>): void {
    // Handed over: the next daemon writes from here on.
    if (this.gone || this.leave.aborted) return;
    if (!this.socket) {
      this.socket = connect(socketPath(this.dir, this.supervisor));
      // The supervisor gone: the run's exit line says how it ended.
      this.socket.on('error', () => (this.gone = true));
    }
    this.socket.write(`${JSON.stringify(message)}\n`);
  }
}

/** The channel of a provider on the daemon's own pipes. */
export function pipeInput(stdin: NodeJS.WritableStream, asker: PermissionAsker): StdinChannel {
  stdin.on('error', () => undefined); // the provider gone: its exit says why
  return {
    write: (line) => void stdin.write(`${line}\n`),
    end: () => stdin.end(),
    askPermission: (request) => asker.requestPermission(request),
  };
}
