/**
 * The per-run supervisor: a small Node script, run detached in its own process group so that it
 * outlives the daemon (a crash, `gateway restart`, an upgrade). It reads its run (command,
 * arguments, workdir, environment, graces) as JSON on stdin, so nothing secret is written to disk
 * or shown in the process list; spawns the provider in a process group of its own; appends each
 * stdout and stderr line to `output.jsonl` (`{"o":line}`, `{"e":line}`) after a first
 * `{"supervisor":pid,"pid":pid}` line, and last `{"exit":code,"signal":name}`. It checks the
 * daemon's heartbeat file now and then (one stat): once the daemon has been gone past the hub's
 * lease and grace, the hub has given the run up, so it ends the run's process group (SIGINT, then
 * SIGTERM, then SIGKILL) and says so on the exit line (`"abandoned":true`).
 *
 * A protocol over stdin (ACP, codex app-server; `"stdin":"pipe"`) keeps the provider's stdin open
 * here, not in the daemon: the supervisor listens on `in.sock` in the run's folder (0600, the folder
 * 0700) before it writes its first line, and relays what a daemon sends there, one JSON object a
 * line: `{"w":line}` is written to the provider's stdin and spooled as `{"i":line}`, in order with
 * the output, so the next daemon knows what was sent already; `{"n":value}` is spooled as a note
 * (`{"n":value}`: a permission decision); `{"end":true}` closes the provider's stdin.
 *
 * Kept as plain JavaScript source (not bundled code) so it runs the same from a checkout, the
 * bundled CLI or an installed package: `node <spool>/supervisor.cjs <mark>`, the mark being the run's
 * folder, or for a spare started ahead of its run (`spare-supervisor.ts`) a mark of its own. The
 * run's folder comes on stdin with the rest, as one line; a spare whose stdin ends empty exits.
 */
export const supervisorSource = String.raw`'use strict';
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const net = require('node:net');

// The run is one line: it starts as soon as that line is here, not when the daemon's end of the
// pipe closes (a daemon busy with the run's other work closes it a millisecond or two later).
let input = '';
let started = false;
const begin = (text) => {
  started = true;
  main(JSON.parse(text));
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  if (started) return;
  input += chunk;
  const end = input.indexOf('\n');
  if (end !== -1) begin(input.slice(0, end));
});
process.stdin.on('end', () => {
  if (!started) input.trim() ? begin(input) : process.exit(0);
});

function main(spec) {
  // The socket is named relative to the run's folder: its full path may be too long for one.
  process.chdir(spec.dir);
  const out = fs.openSync('output.jsonl', 'a', 0o600);
  // Lines read in one turn of the event loop are written together, in the order they came.
  let pending = '';
  const flush = () => {
    if (pending) fs.writeSync(out, pending);
    pending = '';
  };
  const add = (line) => {
    if (!pending) setImmediate(flush);
    pending += line;
  };
  const write = (value) => add(JSON.stringify(value) + '\n');
  const piped = spec.stdin === 'pipe';
  let child;
  if (!piped) return launch();
  // Listening before the provider starts: a daemon that sees the first line can write at once.
  const server = relay(() => child, write);
  server.once('error', (err) => {
    write({ spawnError: 'no stdin socket: ' + String(err && err.message) });
    flush();
    process.exit(0);
  });
  server.listen('in.sock', () => {
    fs.chmodSync('in.sock', 0o600);
    launch();
  });

  function launch() {
    try {
      child = spawn(spec.bin, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        stdio: [piped ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (err) {
      write({ spawnError: String(err && err.message) });
      flush();
      process.exit(0);
    }
    if (piped) child.stdin.on('error', () => {});
    child.once('error', (err) => {
      if (child.pid === undefined) {
        write({ spawnError: String(err && err.message) });
        flush();
        process.exit(0);
      }
    });
    child.once('spawn', started);
  }
  function started() {
    write({ supervisor: process.pid, pid: child.pid });
    const lines = (stream, key) => {
      // Split as readline splits (at \n, \r\n or a lone \r; a last line without one is kept) at
      // a fraction of its cost per line, which counts with a provider printing many short lines.
      const head = '{"' + key + '":';
      const line = (text) => add(head + JSON.stringify(text) + '}\n');
      let rest = '';
      let afterCr = false;
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        let from = afterCr && chunk.charCodeAt(0) === 10 ? 1 : 0;
        afterCr = false;
        for (let i = from; i < chunk.length; i++) {
          const c = chunk.charCodeAt(i);
          if (c !== 10 && c !== 13) continue;
          line(rest + chunk.slice(from, i));
          rest = '';
          if (c === 13) {
            if (i + 1 === chunk.length) afterCr = true;
            else if (chunk.charCodeAt(i + 1) === 10) i += 1;
          }
          from = i + 1;
        }
        if (from < chunk.length) rest += chunk.slice(from);
      });
      return new Promise((resolve) => {
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          if (rest) line(rest);
          resolve();
        };
        stream.once('end', end);
        stream.once('close', end);
      });
    };
    const drained = Promise.all([lines(child.stdout, 'o'), lines(child.stderr, 'e')]);
    let abandoned = false;
    const check = Math.max(100, Math.min(1000, Math.floor(spec.goneMs / 4)));
    const watch = setInterval(() => {
      let last = 0;
      try {
        last = fs.statSync(spec.aliveFile).mtimeMs;
      } catch {}
      if (abandoned || Date.now() - last <= spec.goneMs) return;
      abandoned = true;
      stopGroup(child.pid, spec.graces);
    }, check);
    child.once('exit', (code, signal) => {
      clearInterval(watch);
      // A leftover child may hold the pipes open: wait a little for the last lines, no longer.
      const timer = setTimeout(finish, 500);
      drained.then(finish);
      let done = false;
      function finish() {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // Given up by the hub: nothing of the run may go on (a retry may run elsewhere).
        if (abandoned) send(child.pid, 'SIGKILL');
        write({ exit: code, signal, ...(abandoned ? { abandoned: true } : {}) });
        flush();
        fs.closeSync(out);
        process.exit(0);
      }
    });
  }
}

/** The socket a daemon writes the provider's stdin through. */
function relay(childOf, write) {
  let ended = false;
  return net.createServer((socket) => {
    socket.on('error', () => {});
    const reader = readline.createInterface({ input: socket, crlfDelay: Infinity });
    reader.on('line', (line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      const child = childOf();
      if (!child || !child.stdin) return;
      if (typeof message.w === 'string' && !ended) {
        child.stdin.write(message.w + '\n');
        write({ i: message.w });
      } else if (message.n !== undefined) write({ n: message.n });
      else if (message.end === true && !ended) {
        ended = true;
        child.stdin.end();
      }
    });
  });
}

function alive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function send(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {}
}

function stopGroup(pgid, graces) {
  send(pgid, 'SIGINT');
  setTimeout(() => {
    if (!alive(pgid)) return;
    send(pgid, 'SIGTERM');
    setTimeout(() => alive(pgid) && send(pgid, 'SIGKILL'), graces.terminateMs);
  }, graces.interruptMs);
}
`;
