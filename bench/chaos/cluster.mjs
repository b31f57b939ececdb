// The processes of one chaos run: hubs and gateways started with the real `gantry` CLI, each its own
// process, which the run kills with -9, freezes with SIGSTOP and starts again as a service manager would.
// Each keeps a log file and a history of when it was up, so an overlap can be judged against it.
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cli = fileURLToPath(new URL('../../packages/cli/bin/gantry.js', import.meta.url));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function baseEnv(home, extra = {}) {
  const env = { ...process.env, GANTRY_HOME: home, GANTRY_LOG_LEVEL: 'warn', ...extra };
  for (const name of ['GANTRY_TOKEN', 'GANTRY_HUB_URL', 'GANTRY_API_KEY', 'GANTRY_DATABASE_URL']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

/** Runs one CLI command to its end (setup steps); rejects with its output unless it exits 0. */
export function gantry(home, args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: baseEnv(home, extraEnv), encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`gantry ${args.join(' ')}: ${stderr}${stdout}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * A foreground service (`hub start`, `gateway start`) that can be killed and started again with the
 * same arguments. `state` is up, starting, down or stopped; `upSince` is when it last became able to act.
 */
export class Service {
  constructor({ name, kind, home, args, env = {}, logDir }) {
    Object.assign(this, { name, kind, home, args, env });
    this.logFile = join(logDir, `${name}.log`);
    this.state = 'down';
    this.upSince = 0;
    this.pids = [];
    this.child = undefined;
    this.ready = undefined;
    this.exits = [];
  }

  /** Starts the service and resolves with its readiness line (its `--json` output). */
  async start(args = this.args) {
    this.state = 'starting';
    for (let tries = 0; ; tries++) {
      try {
        this.ready = await this.#spawn(args);
        this.state = 'up';
        this.upSince = Date.now();
        return this.ready;
      } catch (err) {
        if (tries >= 5) throw err;
        await sleep(500); // e.g. the port of a killed hub not free yet
      }
    }
  }

  #spawn(args) {
    const log = openSync(this.logFile, 'a');
    writeSync(log, `--- ${new Date().toISOString()} start ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [cli, ...args], {
      env: baseEnv(this.home, this.env),
      stdio: ['ignore', 'pipe', log],
    });
    closeSync(log);
    this.child = child;
    this.pids.push(child.pid);
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited = exited;
    exited.then((how) => {
      this.exits.push({ at: Date.now(), ...how });
      if (this.child === child) this.state = 'down';
    });
    return new Promise((resolve, reject) => {
      let out = '';
      // The ready line is the first whole line that is a JSON object; anything else goes to the log.
      let seen = 0;
      let ready = false;
      child.stdout.on('data', (chunk) => {
        if (ready) return;
        out += chunk;
        const end = out.lastIndexOf('\n');
        if (end < seen) return;
        for (const line of out.slice(seen, end).split('\n')) {
          try {
            if (line.startsWith('{')) {
              resolve(JSON.parse(line));
              ready = true;
              return;
            }
          } catch {
            // not the ready line
          }
          if (line) appendFileSync(this.logFile, `stdout: ${line}\n`);
        }
        seen = end + 1;
      });
      exited.then(({ code, signal }) =>
        reject(new Error(`${this.name} exited ${code ?? signal} before it was ready; see ${this.logFile}`)),
      );
    });
  }

  get pid() {
    return this.child?.pid;
  }

  /** `kill -9`: resolves once the process is gone. */
  async kill9() {
    this.state = 'down';
    this.child.kill('SIGKILL');
    await this.exited;
  }

  freeze() {
    this.state = 'stopped';
    this.child.kill('SIGSTOP');
  }

  thaw() {
    this.child.kill('SIGCONT');
    this.state = 'up';
    this.upSince = Date.now();
  }

  /** SIGTERM, as at shutdown; resolves with how it exited, or `undefined` if it had to be killed. */
  async terminate(timeoutMs = 15_000) {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return { code: 'gone' };
    if (this.state === 'stopped') this.thaw();
    this.child.kill('SIGTERM');
    const timer = sleep(timeoutMs).then(() => undefined);
    const how = await Promise.race([this.exited, timer]);
    if (how === undefined) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    this.state = 'down';
    return how;
  }

  /** Whether it could act at `now`: up, and for at least `settleMs` since it last came back. */
  ableSince(now, settleMs) {
    return this.state === 'up' && now - this.upSince >= settleMs;
  }
}

/** The hubs' REST API for the run: any hub that answers, the next one when one does not. */
export class HubApi {
  constructor(hubs, token) {
    this.hubs = hubs;
    this.token = token;
    this.next = 0;
  }

  /**
   * One request; a hub that is down or frozen is skipped, and the request is retried until `untilMs`
   * (a create is sent with an Idempotency-Key in `headers`, so one retried after a hub died
   * mid-request is answered with the assignment it made: a twin is a violation).
   */
  async request(method, path, body, { untilMs = 60_000, timeoutMs = 15_000, headers = {} } = {}) {
    const deadline = Date.now() + untilMs;
    let lastError;
    for (;;) {
      const live = this.hubs.filter((h) => h.state === 'up' && h.ready);
      const hub = live[this.next++ % Math.max(1, live.length)];
      if (hub) {
        try {
          const res = await fetch(`${hub.ready.url}${path}`, {
            method,
            headers: {
              ...headers,
              authorization: `Bearer ${this.token}`,
              'content-type': 'application/json',
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(timeoutMs),
          });
          const text = await res.text();
          if (res.ok) return JSON.parse(text);
          if (res.status < 500) {
            const err = new Error(`${method} ${path}: ${res.status} ${text}`);
            err.status = res.status;
            throw err;
          }
          lastError = new Error(`${method} ${path}: ${res.status} ${text}`);
        } catch (err) {
          if (err.status) throw err;
          lastError = err;
        }
      }
      if (Date.now() > deadline) throw lastError ?? new Error(`${method} ${path}: no hub up`);
      await sleep(200);
    }
  }
}
