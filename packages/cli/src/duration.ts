/** CLI durations: `500ms`, `30s`, `5m`, `2h`; a bare number means seconds (DESIGN §7). */
import { GantryError } from '@gantry/protocol/core';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, what = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    throw new GantryError(
      'invalid_request',
      `invalid ${what} '${text}': use e.g. 500ms, 30s, 5m, 2h, or seconds`,
    );
  }
  const ms = Math.round(Number(match[1]) * (units[match[2] ?? 's'] ?? 1000));
  if (ms <= 0) throw new GantryError('invalid_request', `${what} must be more than zero`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`;
}
