/**
 * A run's events as a timeline people read: streamed message pieces joined into one message,
 * each tool call's start and finish paired, files, usage, permission requests and errors.
 */
import type { AssignmentEvent } from '@gantry/protocol';

export type Entry =
  | { kind: 'attempt'; key: string; attempt: number }
  | { kind: 'message'; key: string; text: string; streaming: boolean }
  | {
      kind: 'tool';
      key: string;
      name: string;
      input: string;
      status: 'running' | 'completed' | 'failed' | 'denied' | 'cancelled';
      exitCode?: number | null;
      durationMs?: number;
      output?: string;
    }
  | { kind: 'file'; key: string; path: string; change: string }
  | { kind: 'usage'; key: string; inputTokens: number; outputTokens: number; costUsd?: number }
  | { kind: 'status'; key: string; message: string; progress?: number }
  | { kind: 'permission'; key: string; tool: string; input: string; decision?: string; by?: string }
  | { kind: 'error'; key: string; message: string; code?: string }
  | { kind: 'log'; key: string; text: string; stream?: string }
  | { kind: 'session'; key: string; id: string; resumed?: boolean };

type Data = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

export function timeline(events: AssignmentEvent[]): Entry[] {
  const out: Entry[] = [];
  const tools = new Map<string, Extract<Entry, { kind: 'tool' }>>();
  const permissions = new Map<string, Extract<Entry, { kind: 'permission' }>>();
  let draft: Extract<Entry, { kind: 'message' }> | undefined;
  let attempt = 0;
  for (const event of events) {
    const d = event.data as Data;
    const key = `${event.attempt}:${event.seq}`;
    if (event.attempt !== attempt) {
      if (attempt !== 0 || event.attempt > 1)
        out.push({ kind: 'attempt', key: `attempt${event.attempt}`, attempt: event.attempt });
      attempt = event.attempt;
      draft = undefined;
    }
    switch (event.type) {
      case 'message_delta':
        if (draft) draft.text += str(d.text);
        else {
          draft = { kind: 'message', key, text: str(d.text), streaming: true };
          out.push(draft);
        }
        break;
      case 'message':
        // The whole message replaces the pieces that streamed before it.
        if (draft) {
          draft.text = str(d.text);
          draft.streaming = false;
          draft = undefined;
        } else out.push({ kind: 'message', key, text: str(d.text), streaming: false });
        break;
      case 'tool_started': {
        const tool: Extract<Entry, { kind: 'tool' }> = {
          kind: 'tool',
          key,
          name: str(d.name),
          input: str(d.input),
          status: 'running',
        };
        tools.set(`${event.attempt}:${str(d.id)}`, tool);
        out.push(tool);
        break;
      }
      case 'tool_finished': {
        const found = tools.get(`${event.attempt}:${str(d.id)}`);
        const tool = found ?? {
          kind: 'tool' as const,
          key,
          name: str(d.name),
          input: '',
          status: 'running' as const,
        };
        tool.status = (str(d.status) || 'completed') as typeof tool.status;
        tool.exitCode = num(d.exitCode) ?? null;
        tool.durationMs = num(d.durationMs);
        tool.output = str(d.output) || undefined;
        if (!found) out.push(tool);
        break;
      }
      case 'file_changed':
        out.push({ kind: 'file', key, path: str(d.path), change: str(d.kind) });
        break;
      case 'usage':
        out.push({
          kind: 'usage',
          key,
          inputTokens: num(d.inputTokens) ?? 0,
          outputTokens: num(d.outputTokens) ?? 0,
          costUsd: num(d.costUsd),
        });
        break;
      case 'status':
        out.push({ kind: 'status', key, message: str(d.message), progress: num(d.progress) });
        break;
      case 'permission_requested': {
        const p = { kind: 'permission' as const, key, tool: str(d.tool), input: str(d.input) };
        permissions.set(`${event.attempt}:${str(d.requestId)}`, p);
        out.push(p);
        break;
      }
      case 'permission_decided': {
        const p = permissions.get(`${event.attempt}:${str(d.requestId)}`);
        if (p) {
          p.decision = str(d.decision);
          p.by = str(d.by);
        }
        break;
      }
      case 'error':
        out.push({ kind: 'error', key, message: str(d.message), code: str(d.code) || undefined });
        break;
      case 'log':
      case 'output': {
        // Consecutive lines of output read as one block.
        const last = out.at(-1);
        if (last?.kind === 'log') last.text += `\n${str(d.text)}`;
        else out.push({ kind: 'log', key, text: str(d.text), stream: str(d.stream) || undefined });
        break;
      }
      case 'session':
        out.push({ kind: 'session', key, id: str(d.id), resumed: d.resumed === true });
        break;
      default:
        // `result` repeats the final output shown with the result; unknown types are for debugging.
        break;
    }
  }
  return out;
}
