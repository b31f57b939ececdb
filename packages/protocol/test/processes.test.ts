import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processAlive } from '../src/node/processes.ts';

describe('processAlive', () => {
  it('is true for a running process and false for one that has exited', async () => {
    expect(processAlive(process.pid)).toBe(true);
    const child = spawn('true');
    const pid = child.pid!;
    await once(child, 'exit');
    expect(processAlive(pid)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('is false for a zombie its parent never reaps', async () => {
    // `sleep 0.1` exits at once and stays a zombie: its parent exec'd `sleep 5`, which never waits.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    await new Promise((resolve) => setTimeout(resolve, 600));
    try {
      process.kill(zombie, 0); // the kernel still has it ...
      expect(processAlive(zombie)).toBe(false); // ... but it runs nothing
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
