/**
 * The hot `events` frame checked without zod: the same rules as `eventsFrame` (frames.ts), in one
 * loop over the events. It only ever accepts what the schema accepts and returns what the schema
 * returns (events with only seq, type, ts and data); for anything else, or anything unusual, it
 * answers `undefined` and the caller asks the schema, which says what is wrong.
 */
import type { EventsFrame } from './frames.ts';
import { deeperThan, maxJsonDepth } from './json.ts';

const frameKeys = new Set(['t', 'assignmentId', 'attempt', 'events']);
const maxEvents = 1000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const positiveInt = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/** The frame as `eventsFrame.parse` would return it, or undefined to let the schema decide. */
export function fastEventsFrame(json: unknown): EventsFrame | undefined {
  if (!isRecord(json) || json.t !== 'events' || Object.getPrototypeOf(json) !== Object.prototype) return;
  let keys = 0;
  for (const key in json) {
    if (!Object.hasOwn(json, key)) continue;
    if (!frameKeys.has(key)) return;
    keys += 1;
  }
  if (keys !== frameKeys.size) return;
  const { assignmentId, attempt, events } = json;
  if (typeof assignmentId !== 'string' || assignmentId.length < 1 || assignmentId.length > 64) return;
  if (!positiveInt(attempt)) return;
  if (!Array.isArray(events) || events.length < 1 || events.length > maxEvents) return;
  const out: EventsFrame['events'] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e: unknown = events[i];
    if (!isRecord(e)) return;
    const { seq, type, ts, data } = e;
    if (!positiveInt(seq)) return;
    if (typeof type !== 'string' || type.length < 1 || type.length > 64) return;
    if (typeof ts !== 'string') return;
    // The schema's record copies data key by key: a `__proto__` key (or a non-plain object) is its call.
    if (
      !isRecord(data) ||
      Object.getPrototypeOf(data) !== Object.prototype ||
      Object.hasOwn(data, '__proto__')
    )
      return;
    out[i] = { seq, type, ts, data };
  }
  return { t: 'events', assignmentId, attempt, events: out };
}

/**
 * A frame's text as `fastEventsFrame(parseJson(text))` takes it: the `events` frame, or undefined to
 * go that way (another frame, not JSON, nested too deep, anything unusual). JSON.parse does not
 * recurse, so the nesting limit is checked on what it made, not by scanning the text first (for a
 * frame of run output that scan cost a third of the parse); a key given twice counts by the value kept.
 */
export function parseEventsFrame(text: string): EventsFrame | undefined {
  // How a gateway writes it (JSON.stringify, `t` first); any other spelling goes the general way.
  if (!text.startsWith('{"t":"events",')) return;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return;
  }
  if (deeperThan(json, maxJsonDepth)) return;
  return fastEventsFrame(json);
}
