// The provider side of a chaos run: the script every gateway runs (numbered lines, a short sleep between
// them, then its result), which logs each start to one file; and a watcher that follows those processes
// through /proc, so it knows when each one really ended and whether two runs of one assignment overlapped.
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** The generic provider's script for gateway `gw`; its prompt is `chaos <n> lines=<lines> pause=<seconds>`. */
export function writeProviderScript(dir, gw, runLog) {
  const path = join(dir, `provider-${gw}.sh`);
  writeFileSync(
    path,
    `#!/bin/sh
echo "start $GANTRY_ASSIGNMENT_ID $GANTRY_ATTEMPT $$ ${gw} $(date +%s%3N)" >> ${runLog}
set -- $1
n=\${3#lines=}
pause=\${4#pause=}
i=1
while [ $i -le $n ]; do echo "line $i"; sleep $pause; i=$((i + 1)); done
echo "GANTRY_EVENT {\\"type\\":\\"result\\",\\"text\\":\\"done $n\\"}"
echo "end $GANTRY_ASSIGNMENT_ID $GANTRY_ATTEMPT $$ ${gw} $(date +%s%3N)" >> ${runLog}
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** A process's state letter and start time (clock ticks since boot), or undefined once it is gone. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTicks: fields[19] };
  } catch {
    return undefined;
  }
}

const alive = (run) => {
  const stat = procStat(run.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTicks === run.startTicks;
};

/**
 * Follows the run log and the processes it names, every `tickMs`. An overlap is time during which two
 * processes of one assignment ran at once; it is excused while the older run's gateway could not act
 * (killed, frozen, or back for less than `settleMs`), since only that gateway can stop it.
 */
export class RunWatcher {
  constructor({ runLog, gateways, settleMs, tickMs = 50 }) {
    Object.assign(this, { runLog, gateways, settleMs, tickMs });
    this.offset = 0;
    this.partial = '';
    this.runs = [];
    this.live = new Set();
    this.overlaps = new Map();
    this.timer = undefined;
  }

  start() {
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  stop() {
    clearInterval(this.timer);
    this.tick();
  }

  #readLog() {
    if (!existsSync(this.runLog)) return;
    const fd = openSync(this.runLog, 'r');
    const buf = Buffer.alloc(1 << 16);
    let n;
    while ((n = readSync(fd, buf, 0, buf.length, this.offset)) > 0) {
      this.offset += n;
      this.partial += buf.subarray(0, n).toString();
    }
    closeSync(fd);
    const lines = this.partial.split('\n');
    this.partial = lines.pop();
    for (const line of lines) {
      const [what, assignment, attempt, pid, gw, ms] = line.split(' ');
      if (what === 'start') {
        const stat = procStat(Number(pid));
        const run = {
          assignment,
          attempt: Number(attempt),
          pid: Number(pid),
          gw,
          startedAt: Number(ms),
          startTicks: stat?.startTicks,
          endedAt: undefined,
          finished: false,
        };
        this.runs.push(run);
        if (stat && stat.state !== 'Z') this.live.add(run);
        else run.endedAt = Date.now();
      } else if (what === 'end') {
        const run = this.runs.find((r) => r.pid === Number(pid) && r.assignment === assignment);
        if (run) run.finished = true;
      }
    }
  }

  tick() {
    this.#readLog();
    const now = Date.now();
    const byAssignment = new Map();
    for (const run of this.live) {
      if (!alive(run)) {
        run.endedAt = now;
        this.live.delete(run);
        continue;
      }
      const list = byAssignment.get(run.assignment) ?? [];
      list.push(run);
      byAssignment.set(run.assignment, list);
    }
    for (const [assignment, list] of byAssignment) {
      if (list.length < 2) continue;
      list.sort((a, b) => a.startedAt - b.startedAt);
      for (let i = 0; i < list.length - 1; i++) {
        const [older, newer] = [list[i], list[i + 1]];
        const key = `${assignment} ${older.attempt}/${older.pid} ${newer.attempt}/${newer.pid}`;
        const o = this.overlaps.get(key) ?? {
          assignment,
          older: { attempt: older.attempt, pid: older.pid, gateway: older.gw },
          newer: { attempt: newer.attempt, pid: newer.pid, gateway: newer.gw },
          ms: 0,
          unexcusedMs: 0,
        };
        o.ms += this.tickMs;
        const gateway = this.gateways.find((g) => g.name === older.gw);
        if (gateway?.ableSince(now, this.settleMs)) o.unexcusedMs += this.tickMs;
        this.overlaps.set(key, o);
      }
    }
  }

  /** Provider processes still running (from the run log), and any process started from `root`. */
  leftovers(root, ownPids = [], cliPath = '') {
    this.tick();
    const runs = [...this.live].map((r) => ({ pid: r.pid, assignment: r.assignment, attempt: r.attempt }));
    const others = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
        const stat = procStat(Number(entry));
        if (stat?.state === 'Z') continue;
        const ours = ownPids.includes(Number(entry)) && cmdline.includes(cliPath);
        if (cmdline.includes(root) || ours) others.push({ pid: Number(entry), cmdline });
      } catch {
        // gone meanwhile
      }
    }
    return { runs, processes: others };
  }
}
