/**
 * Status shown as a word with a shape, never colour alone: the colour is a second cue for those
 * who see it, the glyph and the text carry the meaning.
 */
type Tone = 'ok' | 'bad' | 'warn' | 'busy' | 'idle' | 'info';

const tones: Record<string, { tone: Tone; glyph: string }> = {
  // assignments
  queued: { tone: 'idle', glyph: '◌' },
  offered: { tone: 'idle', glyph: '◌' },
  starting: { tone: 'busy', glyph: '◐' },
  running: { tone: 'busy', glyph: '◐' },
  cancelling: { tone: 'warn', glyph: '◑' },
  succeeded: { tone: 'ok', glyph: '✓' },
  failed: { tone: 'bad', glyph: '✕' },
  cancelled: { tone: 'idle', glyph: '⊘' },
  timed_out: { tone: 'bad', glyph: '⧗' },
  expired: { tone: 'idle', glyph: '⧗' },
  // approvals
  pending: { tone: 'warn', glyph: '?' },
  approved: { tone: 'ok', glyph: '✓' },
  denied: { tone: 'bad', glyph: '✕' },
  // presence
  live: { tone: 'ok', glyph: '●' },
  'queue-only': { tone: 'warn', glyph: '◍' },
  offline: { tone: 'idle', glyph: '○' },
  'pending approval': { tone: 'warn', glyph: '?' },
  paused: { tone: 'warn', glyph: '‖' },
  // tasks
  open: { tone: 'info', glyph: '○' },
  in_progress: { tone: 'busy', glyph: '◐' },
  blocked: { tone: 'bad', glyph: '■' },
  done: { tone: 'ok', glyph: '✓' },
  // stream
  connecting: { tone: 'idle', glyph: '◌' },
  reconnecting: { tone: 'warn', glyph: '↻' },
  'signed-out': { tone: 'bad', glyph: '✕' },
};

export function label(status: string): string {
  return status.replace(/_/g, ' ');
}

export function Status({ value, text }: { value: string; text?: string }) {
  const { tone, glyph } = tones[value] ?? { tone: 'info' as const, glyph: '•' };
  return (
    <span className={`status status-${tone}`}>
      <span className="status-glyph" aria-hidden="true">
        {glyph}
      </span>
      {text ?? label(value)}
    </span>
  );
}
