// A foreground service (`up`, `hub start`, `gateway start`) stops cleanly on a signal; a second one
// while it stops must not end it by the signal (the rare `gantry up` exit by SIGINT instead of 0).
import { afterEach, describe, expect, it } from 'vitest';
import { untilSignal } from '../src/lifecycle.ts';

const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };

afterEach(() => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal))
      if (!before[signal].includes(listener)) process.off(signal, listener);
  }
});

describe('untilSignal', () => {
  it('resolves with the first signal, says so on a second, and forces the exit on a third', async () => {
    const lines: string[] = [];
    let forced = 0;
    const signalled = untilSignal(
      () => (forced += 1),
      (line) => lines.push(line),
    );
    // Installed at once: a signal right after the call (the ready line) is caught.
    expect(process.listenerCount('SIGINT')).toBe(before.SIGINT.length + 1);
    process.emit('SIGTERM', 'SIGTERM');
    await expect(signalled).resolves.toBe('SIGTERM');
    process.emit('SIGINT', 'SIGINT');
    expect(process.listenerCount('SIGINT')).toBe(before.SIGINT.length + 1);
    expect(lines).toEqual(['gantry: SIGINT: already stopping; send it again to stop at once\n']);
    expect(forced).toBe(0);
    process.emit('SIGINT', 'SIGINT');
    expect(forced).toBe(1);
    expect(lines[1]).toBe('gantry: SIGINT: stopping at once\n');
  });
});
