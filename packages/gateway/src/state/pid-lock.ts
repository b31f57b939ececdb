/**
 * One gateway daemon per data folder: a second one would serve the same agents with the same
 * gateway token and fight the first for its connection. The lock is a pid file created
 * exclusively; a file left by a process that is gone is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { GantryError } from '@gantry/protocol';
import { processAlive } from '@gantry/protocol/node';

export interface PidLock {
  release(): void;
}

export function acquirePidLock(path: string): PidLock {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new GantryError(
          'conflict',
          `a gateway is already running from this folder (pid ${pid}); stop it first`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new GantryError('conflict', `could not take the gateway lock ${path}`);
}
