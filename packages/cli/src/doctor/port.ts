/**
 * Whether a local port is free, and if not, who holds it: the doctor tells a port taken by this
 * very gateway (or hub) from one taken by another program, naming that program when `ss` or
 * `lsof` can.
 */
import { createServer } from 'node:net';
import { run } from '../service/manager.ts';

export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** `node (pid 123)` for the process listening on the port, when the system tells; else undefined. */
export function portHolder(port: number): string | undefined {
  const ss = run('ss', ['-Hltnp', `sport = :${port}`]);
  const found = /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout);
  if (found) return `${found[1]} (pid ${found[2]})`;
  const lsof = run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc']);
  const pid = /^p(\d+)$/m.exec(lsof.stdout)?.[1];
  const name = /^c(.+)$/m.exec(lsof.stdout)?.[1];
  return pid ? `${name ?? 'a process'} (pid ${pid})` : undefined;
}
