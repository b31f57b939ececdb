/**
 * The one event vocabulary every provider speaks (codex, claude-code, acp, ollama, generic), so a
 * client renders any run the same way. Each event's `data` may also carry `raw`: the provider's
 * own event it came from, for debugging.
 */
import * as z from 'zod';

const raw = { raw: z.unknown().optional() };

export const providerEventSchemas = {
  /** A whole assistant message (the final text of a turn, or a message between tool calls). */
  message: z.object({ text: z.string(), ...raw }),
  /** A piece of an assistant message as it streams; a `message` with the whole text follows. */
  message_delta: z.object({ text: z.string(), ...raw }),
  tool_started: z.object({
    /** The provider's id of this call, to pair it with its `tool_finished`. */
    id: z.string(),
    name: z.string(),
    /** A short, human-readable summary of the input (a command line, a path). */
    input: z.string(),
    ...raw,
  }),
  tool_finished: z.object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['completed', 'failed', 'denied', 'cancelled']),
    exitCode: z.number().int().nullable().optional(),
    durationMs: z.number().int().nonnegative().optional(),
    /** The tail of the tool's output, when there is one. */
    output: z.string().optional(),
    ...raw,
  }),
  file_changed: z.object({ path: z.string(), kind: z.enum(['added', 'modified', 'deleted']), ...raw }),
  usage: z.object({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    cachedInputTokens: z.number().int().nonnegative().optional(),
    reasoningTokens: z.number().int().nonnegative().optional(),
    costUsd: z.number().nonnegative().optional(),
    ...raw,
  }),
  /** What the run is doing now; `progress` from 0 to 1 when known. */
  status: z.object({ message: z.string(), progress: z.number().min(0).max(1).optional(), ...raw }),
  /** The provider's own session (conversation) id: what a `continue` resumes. */
  session: z.object({
    id: z.string(),
    provider: z.string().optional(),
    resumed: z.boolean().optional(),
    ...raw,
  }),
  permission_requested: z.object({
    requestId: z.string(),
    tool: z.string(),
    input: z.string(),
    /** The hub's approval that stands for this request, once there is one. */
    approvalId: z.string().optional(),
    ...raw,
  }),
  permission_decided: z.object({
    requestId: z.string(),
    decision: z.enum(['approved', 'denied']),
    /** Who decided: a user on the hub, the binding's policy (`allow`/`deny`), or the timeout. */
    by: z.enum(['user', 'policy', 'timeout']),
    approvalId: z.string().optional(),
    ...raw,
  }),
  /** A plain stdout line of a process that is not a provider event. */
  output: z.object({ text: z.string(), ...raw }),
  /** A stderr line, or a diagnostic of the provider. */
  log: z.object({ stream: z.enum(['stdout', 'stderr', 'provider']).optional(), text: z.string(), ...raw }),
  error: z.object({ message: z.string(), code: z.string().optional(), ...raw }),
  /** The run's final text (also the assignment's result output). */
  result: z.object({ text: z.string(), ...raw }),
} as const;

export type ProviderEventType = keyof typeof providerEventSchemas;
export type ProviderEventData<T extends ProviderEventType> = z.infer<(typeof providerEventSchemas)[T]>;

/** The emit a provider gets: typed for the vocabulary above. */
export type EmitEvent = <T extends ProviderEventType>(type: T, data: ProviderEventData<T>) => void;

export const providerEventTypes = Object.keys(providerEventSchemas) as ProviderEventType[];

/** The last `max` characters of a text (`…` marks the cut): the end of a tool's output says most. */
export function tail(text: string, max = 2000): string {
  return text.length <= max ? text : `…${text.slice(-(max - 1))}`;
}

/** Cuts a long text for an event (`…` marks the cut). */
export function clip(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
