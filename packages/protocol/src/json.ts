/**
 * JSON from outside (request bodies, WebSocket frames, MCP calls) with a nesting limit: deep
 * nesting parses fine but overflows the stack of whatever walks it next (validation, storage,
 * `JSON.stringify`), so it is refused up front as a client error.
 */
import { GantryError } from './gantry-error.ts';

/** How deep a body or frame may nest (`{}` and `[]` are one level): far past any real one. */
export const maxJsonDepth = 64;

/** True when the JSON text nests deeper than `limit`; scans the text without parsing it. */
export function jsonTooDeep(text: string, limit = maxJsonDepth): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
  return false;
}

/** Parses JSON text, or throws `invalid_request` saying that `what` is not JSON or nests too deep. */
export function parseJson(text: string, what = 'the body'): unknown {
  if (jsonTooDeep(text)) {
    throw new GantryError('invalid_request', `${what} nests deeper than ${maxJsonDepth} levels`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GantryError('invalid_request', `${what} is not valid JSON`);
  }
}

/**
 * `value` itself when it nests at most `levels` deep, else a copy in which what lies deeper is
 * replaced by a short string: data from a provider must still fit in a frame under the limit.
 */
export function limitDepth(value: unknown, levels: number): unknown {
  return deeperThan(value, levels) ? cut(value, levels) : value;
}

/**
 * True when a parsed value nests deeper than `levels` (`{}` and `[]` are one level, as for
 * `jsonTooDeep` on its text). Walks at most `levels` deep, so a value of any depth is safe to check.
 */
export function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (deeperThan(value[i], levels - 1)) return true;
    return false;
  }
  // A loop, not Object.values: this runs for every event a run emits.
  for (const key in value) {
    if (Object.hasOwn(value, key) && deeperThan((value as Record<string, unknown>)[key], levels - 1))
      return true;
  }
  return false;
}

function cut(value: unknown, levels: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (levels <= 0) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => cut(item, levels - 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cut(item, levels - 1)]));
}
