/**
 * Masks secrets in text that leaves a process (DESIGN §5): the well-known key shapes (Gantry tokens
 * keep their kind and id, other keys their telling prefix) and, for a `Redactor` made with them,
 * known secret values. One combined regular expression does it all in one pass over the text.
 */

/** A shape: the pattern (its one capture group is the prefix kept) and what replaces the rest. */
interface Shape {
  pattern: string;
  mask: string;
}

const shapes: Shape[] = [
  // Gantry tokens, also glued to a word (`keygnt_u_...`): the kind and id tell which one it was.
  { pattern: String.raw`(gnt_[uagr]_[a-z0-9_]{8,64}\.)[A-Za-z0-9_-]{20,128}`, mask: '[redacted]' },
  {
    pattern: String.raw`()eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
    mask: '[redacted jwt]',
  },
  // OpenAI and Anthropic (`sk-ant-`): not inside a word ("risk-..."), long, with a digit.
  {
    pattern: String.raw`(sk-(?<![A-Za-z0-9]sk-)(?:ant-)?)(?=[\w-]{0,300}\d)[\w-]{20,300}`,
    mask: '[redacted]',
  },
  { pattern: String.raw`(gh[pousr]_)[A-Za-z0-9]{36,255}`, mask: '[redacted]' },
  { pattern: String.raw`(github_pat_)[A-Za-z0-9_]{22,255}`, mask: '[redacted]' },
  { pattern: String.raw`(glpat-)[A-Za-z0-9_-]{20,}`, mask: '[redacted]' },
  { pattern: String.raw`((?:AKIA|ASIA)(?<![A-Z0-9]A[KS]IA))[A-Z0-9]{16}(?![A-Z0-9])`, mask: '[redacted]' },
  { pattern: String.raw`(xox[a-z]-)[A-Za-z0-9-]{10,}`, mask: '[redacted]' },
  { pattern: String.raw`(AIza)[0-9A-Za-z_-]{35}`, mask: '[redacted]' },
  // A private key block; without its end line (output read line by line) up to the end of the text.
  {
    pattern: String.raw`()-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`,
    mask: '[redacted private key]',
  },
];

/** The shortest secret value worth masking: shorter ones would mask ordinary words. */
export const minSecretLength = 8;

const keyBegin = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const keyEnd = /-----END [A-Z0-9 ]*PRIVATE KEY-----/;
/** A line of a private key's body: base64. */
const keyBody = /^[A-Za-z0-9+/=]{16,}\s*$/;

/**
 * Masks the shapes and the given secret values. With `stream`, text is taken as consecutive pieces
 * of one output (lines of a run): the body lines after a private key's `BEGIN` line are masked too,
 * until its `END` line.
 */
export class Redactor {
  private readonly pattern: RegExp;
  private readonly masks: string[];
  private insideKey = false;

  constructor(
    values: Iterable<string> = [],
    private readonly options: { stream?: boolean } = {},
  ) {
    const known = [...new Set(values)].filter((v) => v.length >= minSecretLength);
    // Longest first, so a value that contains another is masked whole.
    known.sort((a, b) => b.length - a.length);
    const all =
      known.length === 0
        ? shapes
        : [...shapes, { pattern: `()(?:${known.map(escape).join('|')})`, mask: '[redacted]' }];
    this.pattern = new RegExp(all.map((s) => s.pattern).join('|'), 'g');
    this.masks = all.map((s) => s.mask);
  }

  text(text: string): string {
    if (this.options.stream) {
      if (this.insideKey) {
        const end = keyEnd.exec(text);
        if (!end) return keyBody.test(text) ? '[redacted private key]' : this.replace(text);
        this.insideKey = false;
        return `[redacted private key]${this.replace(text.slice(end.index + end[0].length))}`;
      }
      const begin = keyBegin.exec(text);
      if (begin && !keyEnd.test(text.slice(begin.index))) this.insideKey = true;
    }
    return this.replace(text);
  }

  /** The same for every string in a JSON-like value; returns the value itself when nothing changed. */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) {
      let changed = false;
      const out = value.map((v: unknown) => {
        const r = this.deep(v);
        changed ||= r !== v;
        return r;
      });
      return (changed ? out : value) as T;
    }
    if (value !== null && typeof value === 'object') {
      // Copied only once something changes: every event of a run passes here.
      const source = value as Record<string, unknown>;
      const keys = Object.keys(source);
      let out: Record<string, unknown> | undefined;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        const v = source[k];
        const r = this.deep(v);
        if (r !== v && !out) {
          out = {};
          for (let j = 0; j < i; j++) out[keys[j] as string] = source[keys[j] as string];
        }
        if (out) out[k] = r;
      }
      return (out ?? value) as T;
    }
    return value;
  }

  private replace(text: string): string {
    return text.replace(this.pattern, (...args: unknown[]) => {
      // One capture group per alternative: the one that took part says which shape matched.
      for (let i = 0; i < this.masks.length; i++) {
        const kept = args[i + 1];
        if (typeof kept === 'string') return `${kept}${this.masks[i]}`;
      }
      return '[redacted]';
    });
  }
}

function escape(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const shapesOnly = new Redactor();

/** Masks the well-known secret shapes in one piece of text. */
export function redact(text: string): string {
  return shapesOnly.text(text);
}

/** `redact` for every string in a JSON-like value; returns the value itself when nothing changed. */
export function redactDeep<T>(value: T): T {
  return shapesOnly.deep(value);
}
