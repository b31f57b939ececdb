/**
 * An ACP agent's `session/update` notifications as Gantry events: message chunks, tool calls and
 * their updates (with durations and edits), plans, usage.
 */
import type * as acp from '@agentclientprotocol/sdk/unstable';
import { clip, type EmitEvent } from '@gantry/protocol';
import type { RunOutcome } from './provider.ts';

interface ToolState {
  id: string;
  name: string;
  input: string;
  kind: string | undefined;
  firstSeen: number;
  started: boolean;
  finished: boolean;
  /** Files the call edits: from its diffs (added when there was no old text) and locations. */
  files: Map<string, 'added' | 'modified' | 'deleted'>;
  output: string;
}

type ToolFields = Partial<acp.ToolCallUpdate> & { toolCallId?: string };

/** Maps one turn's `session/update` notifications to Gantry events and keeps its final text. */
export class SessionUpdates {
  /** While a loaded session's history is replayed: not this run's messages. */
  replaying = false;
  private replayed = 0;
  private text = '';
  private lastMessage = '';
  private thought = '';
  private costUsd: number | undefined;
  private usage: { inputTokens: number; outputTokens: number } | undefined;
  private readonly tools = new Map<string, ToolState>();
  private readonly deniedIds = new Set<string>();

  constructor(private readonly emit: EmitEvent) {}

  apply(update: acp.SessionUpdate): void {
    if (this.replaying) {
      this.replayed++;
      return;
    }
    if (update.sessionUpdate !== 'agent_thought_chunk') this.flushThought();
    switch (update.sessionUpdate) {
      case 'agent_message_chunk':
        if (update.content.type !== 'text' || !update.content.text) return;
        this.text += update.content.text;
        this.emit('message_delta', { text: update.content.text });
        return;
      case 'agent_thought_chunk':
        if (update.content.type === 'text') this.thought += update.content.text;
        return;
      case 'tool_call':
      case 'tool_call_update':
        this.flushMessage(); // text before a tool call is a message of its own
        this.toolUpdate(update);
        return;
      case 'plan':
        this.plan(update.entries);
        return;
      case 'usage_update':
        // The context window's fill, sent many times a turn; its cost goes into the turn's usage.
        if (update.cost?.currency === 'USD') this.costUsd = update.cost.amount;
        return;
      default:
        this.emit('log', { stream: 'provider', text: `ACP ${update.sessionUpdate}` });
    }
  }

  endReplay(): void {
    this.replaying = false;
    if (this.replayed > 0)
      this.emit('log', {
        stream: 'provider',
        text: `the agent replayed ${this.replayed} updates of the session's history`,
      });
  }

  /** A permission request for a tool call: what the call is, as far as it is known. */
  asked(call: ToolFields | undefined): ToolState {
    const tool = this.track({ ...call, toolCallId: call?.toolCallId ?? `call-${this.tools.size + 1}` });
    this.start(tool);
    return tool;
  }

  denied(id: string): void {
    this.deniedIds.add(id);
  }

  /** Ends the turn: the last message, the usage; returns the final assistant text. */
  finish(usage: acp.Usage | undefined): string {
    this.flushThought();
    this.flushMessage();
    if (usage) {
      this.usage = { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens };
      this.emit('usage', {
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        ...(usage.cachedReadTokens != null ? { cachedInputTokens: usage.cachedReadTokens } : {}),
        ...(usage.thoughtTokens != null ? { reasoningTokens: usage.thoughtTokens } : {}),
        ...(this.costUsd !== undefined ? { costUsd: this.costUsd } : {}),
        raw: usage,
      });
    }
    return this.lastMessage;
  }

  details(): RunOutcome['details'] {
    return this.usage
      ? { usage: { ...this.usage, ...(this.costUsd !== undefined ? { costUsd: this.costUsd } : {}) } }
      : undefined;
  }

  private flushMessage(): void {
    if (!this.text) return;
    this.lastMessage = this.text;
    this.emit('message', { text: this.text });
    this.text = '';
  }

  private flushThought(): void {
    if (!this.thought) return;
    this.emit('log', { stream: 'provider', text: `thinking: ${clip(this.thought, 500)}` });
    this.thought = '';
  }

  private toolUpdate(update: ToolFields): void {
    const tool = this.track(update);
    const status = update.status;
    const known = hasInput(update.rawInput);
    // Streaming agents announce a call before its input is known; it starts once it is.
    if (known || (status && status !== 'pending')) this.start(tool);
    if (status === 'completed' || status === 'failed') this.end(tool, status);
  }

  /** Merges what an update says about a call into its state. */
  private track(update: ToolFields): ToolState {
    const id = update.toolCallId ?? 'unknown';
    let tool = this.tools.get(id);
    if (!tool) {
      tool = {
        id,
        name: 'tool',
        input: '',
        kind: undefined,
        firstSeen: Date.now(),
        started: false,
        finished: false,
        files: new Map(),
        output: '',
      };
      this.tools.set(id, tool);
    }
    tool.kind = update.kind ?? tool.kind;
    // A tool's own name (`Bash`) says more than its kind (`execute`), which stands in for it.
    const named = update.name ?? metaToolName(update._meta);
    if (named) tool.name = named;
    else if (tool.name === 'tool' && tool.kind) tool.name = tool.kind;
    tool.input = summary(update) || tool.input;
    for (const item of update.content ?? []) {
      if (item.type === 'diff') tool.files.set(item.path, item.oldText == null ? 'added' : 'modified');
      if (item.type === 'content' && item.content.type === 'text') tool.output = item.content.text;
    }
    if (typeof update.rawOutput === 'string') tool.output = update.rawOutput;
    const fileKind = editKinds[tool.kind ?? ''];
    if (fileKind) {
      for (const { path } of update.locations ?? [])
        if (!tool.files.has(path)) tool.files.set(path, fileKind);
    }
    return tool;
  }

  private start(tool: ToolState): void {
    if (tool.started) return;
    tool.started = true;
    this.emit('tool_started', { id: tool.id, name: tool.name, input: tool.input });
  }

  private end(tool: ToolState, status: 'completed' | 'failed'): void {
    if (tool.finished) return;
    this.start(tool);
    tool.finished = true;
    this.emit('tool_finished', {
      id: tool.id,
      name: tool.name,
      status: this.deniedIds.has(tool.id) ? 'denied' : status,
      durationMs: Date.now() - tool.firstSeen,
      ...(tool.output ? { output: clip(tool.output.slice(-2000)) } : {}),
    });
    if (status !== 'completed') return;
    for (const [path, kind] of tool.files) this.emit('file_changed', { path, kind });
  }

  private plan(entries: acp.PlanEntry[]): void {
    const done = entries.filter((e) => e.status === 'completed').length;
    const current =
      entries.find((e) => e.status === 'in_progress') ?? entries.find((e) => e.status === 'pending');
    this.emit('status', {
      message: `plan: ${done} of ${entries.length} done${current ? `; now: ${clip(current.content, 200)}` : ''}`,
      ...(entries.length > 0 ? { progress: done / entries.length } : {}),
      raw: { entries },
    });
  }
}

/** The tool kinds whose locations are files they change. */
const editKinds: Record<string, 'modified' | 'deleted' | undefined> = {
  edit: 'modified',
  move: 'modified',
  delete: 'deleted',
};

function hasInput(raw: unknown): boolean {
  if (typeof raw === 'string') return raw.length > 0;
  return typeof raw === 'object' && raw !== null && Object.keys(raw).length > 0;
}

/** Claude's adapter names the tool (`Bash`, `Edit`) in `_meta.claudeCode.toolName`. */
function metaToolName(meta: unknown): string | undefined {
  const name = (meta as { claudeCode?: { toolName?: unknown } } | null | undefined)?.claudeCode?.toolName;
  return typeof name === 'string' ? name : undefined;
}

/** A short summary of what a tool call does: its command, else its path, else the agent's title. */
function summary(update: ToolFields): string {
  const input = (update.rawInput ?? {}) as Record<string, unknown>;
  const command = input.command ?? input.cmd;
  if (typeof command === 'string') return clip(command, 500);
  if (Array.isArray(command)) return clip(command.map(String).join(' '), 500);
  const path = input.file_path ?? input.path;
  return clip(update.title || (typeof path === 'string' ? path : ''), 500);
}
