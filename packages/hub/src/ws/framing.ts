/**
 * Gateway frames on the wire: one JSON text message each, checked against the protocol schema.
 * `FrameSocket` is all a session needs of its WebSocket, so the session runs on anything that
 * sends text (a unit test's fake as well as `ws`).
 */
import {
  fastEventsFrame,
  gatewayFrameSchema,
  parseEventsFrame,
  parseJson,
  type GatewayFrame,
  type HubFrame,
} from '@gantry/protocol';

export interface FrameSocket {
  /** Sends one text message; nothing once the socket is closing. */
  send(text: string): void;
  close(code: number, reason: string): void;
  /** A WebSocket ping: the round trip in ms, or undefined with no pong in `timeoutMs`. */
  ping(timeoutMs: number): Promise<number | undefined>;
}

/** A frame as the gateway sent it, or why it is not one (said back in an `invalid_frame` error). */
export type Decoded = { frame: GatewayFrame } | { invalid: string };

export function decodeFrame(data: { toString(): string }, isBinary: boolean): Decoded {
  if (isBinary) return { invalid: 'frames are JSON text' };
  const text = String(data);
  // Run output is most of the traffic: its frame is parsed and checked by the fast path; the rest
  // (and anything the fast path leaves) goes through the nesting check, JSON.parse and the schema.
  const fast = parseEventsFrame(text);
  if (fast) return { frame: fast };
  let json: unknown;
  try {
    json = parseJson(text, 'frame');
  } catch (err) {
    return { invalid: (err as Error).message };
  }
  const events = fastEventsFrame(json);
  if (events) return { frame: events };
  const parsed = gatewayFrameSchema.safeParse(json);
  if (parsed.success) return { frame: parsed.data };
  const issue = parsed.error.issues[0];
  return { invalid: `invalid frame: ${issue?.path.join('.') || 'frame'}: ${issue?.message}` };
}

export function encodeFrame(frame: HubFrame): string {
  return JSON.stringify(frame);
}
