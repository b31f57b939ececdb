import { readFileSync } from 'node:fs';

/**
 * Whether a process with this pid exists (one of another user counts). A zombie — killed, not yet
 * reaped by its parent — does not: it runs nothing and holds no lock.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombieOrGone(pid);
}

/** On Linux, from the state letter in `/proc/<pid>/stat` (after the command's closing parenthesis). */
function zombieOrGone(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const end = stat.lastIndexOf(')');
    return stat.slice(end + 2, end + 3) === 'Z';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'; // reaped between the two looks
  }
}
