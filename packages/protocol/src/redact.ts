/**
 * Masks secrets in text that leaves a process (DESIGN §5): Gantry tokens keep their kind and id
 * (useful to tell which one) and lose their secret; JWTs are masked whole.
 */
const tokenPattern = /\b(gnt_[uag]_[a-z0-9_]{8,64})\.[A-Za-z0-9_-]{20,128}/g;
const jwtPattern = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;

export function redact(text: string): string {
  if (!text.includes('gnt_') && !text.includes('eyJ')) return text;
  return text.replace(tokenPattern, '$1.[redacted]').replace(jwtPattern, '[redacted jwt]');
}

/** The same for every string in a JSON-like value; returns the value itself when nothing changed. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = redactDeep(v);
      changed ||= r !== v;
      return r;
    });
    return (changed ? out : value) as T;
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = redactDeep(v);
      changed ||= r !== v;
      out[k] = r;
    }
    return (changed ? out : value) as T;
  }
  return value;
}
