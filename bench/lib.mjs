// What the benches share: a throwaway GANTRY_HOME, the `gantry` CLI and long-running hub and gateway
// processes (all stopped when the bench ends), provider scripts, following an assignment's events
// over SSE, spawning a script directly, percentiles and the results file.
// Node flags for hub and gateway processes: BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cli = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));
export const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value at fraction `p` (0..1) of the sorted samples. */
export const quantile = (values, p) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];

/** Wall clock in ns (comparable with `date +%s%N` printed by another process). */
export const wallNs = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

/**
 * A bench's world: its own GANTRY_HOME and the processes it started, killed when the bench exits
 * (`kill` is the signal used at exit; `cleanHome` removes the home then too).
 */
export function benchHome(prefix, { logLevel = 'error', kill = 'SIGKILL', cleanHome = false } = {}) {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const env = { ...process.env, GANTRY_HOME: home, GANTRY_LOG_LEVEL: logLevel };
  const children = [];
  process.on('exit', () => {
    for (const child of children) child.kill(kill);
    if (cleanHome) rmSync(home, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

  /** Runs the CLI to completion; returns its stdout, throws on a non-zero exit. */
  function gantry(args) {
    const result = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`gantry ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  /** Starts a long-running CLI command with `--json`; resolves with the first JSON line it prints. */
  function service(args, { node = nodeArgs, extraEnv = {} } = {}) {
    return startService(args, { env: { ...env, ...extraEnv }, node, track: (c) => children.push(c) });
  }

  /** An executable shell script in the home. */
  function script(name, body) {
    const path = join(home, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  /** Stops every started process (last first), waits `ms`, and removes the home. */
  async function stop(ms = 500) {
    for (const child of [...children].reverse()) child.kill('SIGTERM');
    await sleep(ms);
    rmSync(home, { recursive: true, force: true });
  }

  return { home, env, children, gantry, service, script, stop };
}

/**
 * Starts `gantry ARGS` (a hub or a gateway with `--json`) and resolves with the first JSON line it
 * prints, and its `pid`; `track` is given the process (the bench stops it at exit). `detached` puts
 * it in a process group of its own.
 */
export function startService(args, { env, node = nodeArgs, track, detached = false }) {
  const child = spawn(process.execPath, [...node, cli, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached,
  });
  track(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ ...JSON.parse(line), pid: child.pid });
    });
    child.once('exit', (code) => reject(new Error(`gantry ${args.join(' ')} exited ${code}`)));
  });
}

/** A JSON request with a bearer token; throws with the status and body unless it succeeded. */
export async function callJson(url, token, init = {}) {
  const res = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** A client of one hub with a bearer token. */
export function hubClient(url, token) {
  const web = url.startsWith('https:') ? https : http;
  const keptAlive = new web.Agent({ keepAlive: true });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  /**
   * Creates an assignment through node:http on a kept-alive connection, not fetch: undici's fetch
   * costs the client about 0.8 ms more per request here (measured round trips to a bare Node
   * server), time spent before the hub sees the request that created -> started would count.
   */
  function create(agent, prompt = 'x') {
    const body = JSON.stringify({ agent, prompt });
    return new Promise((resolve, reject) => {
      const req = web.request(
        `${url}/v1/assignments`,
        {
          method: 'POST',
          agent: keptAlive,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () =>
            res.statusCode === 201 || res.statusCode === 200
              ? resolve(JSON.parse(text))
              : reject(new Error(`create: ${res.statusCode} ${text}`)),
          );
        },
      );
      req.once('error', reject);
      req.end(body);
    });
  }

  /**
   * Follows an assignment's events until the end; returns the final assignment. `onEvent` hears
   * each `event` message's data and its id (`attempt:seq`).
   */
  async function follow(id, onEvent) {
    const stream = await fetch(`${url}/v1/assignments/${id}/events`, {
      headers: { ...headers, accept: 'text/event-stream' },
    });
    let final;
    const feed = sseReader((event, data, eventId) => {
      if (event === 'event') onEvent?.(data, eventId);
      else if (event === 'end') final = JSON.parse(data);
    });
    const decoder = new TextDecoder();
    for await (const chunk of stream.body) feed(decoder.decode(chunk, { stream: true }));
    return final;
  }

  /**
   * Follows a run of `seq 1 N` to its end, checking each `event` message as it comes: attempt 1's
   * seqs 1, 2, 3... in order, each one's data `{"text":"<seq>"}` (the hub writes an event's data
   * last). Returns the final assignment, how many events came and whether all were in order. The
   * hub's event messages are read as bytes (over node:http, no string made for one); any other
   * message (state, end, a keep-alive) goes through `sseReader`.
   */
  function followSeq(id) {
    return new Promise((resolve, reject) => {
      const target = new URL(`${url}/v1/assignments/${id}/events`);
      const request = (target.protocol === 'https:' ? https : http).get(
        target,
        { headers: { ...headers, accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`follow ${id}: ${res.statusCode}`));
          }
          let final;
          let count = 0;
          let ordered = true;
          const other = sseReader((event, data) => {
            // An event not of the shape above is not one of the run's lines in order.
            if (event === 'event') {
              count += 1;
              ordered = false;
            } else if (event === 'end') final = JSON.parse(data);
          });
          let carry = Buffer.alloc(0);
          res.on('data', (chunk) => {
            let buf = chunk;
            let from = 0;
            if (carry.length > 0) {
              // Only the message cut in two is copied whole (a blank line may straddle the cut too).
              const cut = chunk.indexOf(blankLine);
              const upTo =
                chunk[0] === 10 && carry[carry.length - 1] === 10 ? 1 : cut === -1 ? chunk.length : cut + 2;
              const head = Buffer.concat([carry, chunk.subarray(0, upTo)]);
              const end = head.indexOf(blankLine);
              if (end === -1) {
                carry = head;
                return;
              }
              const seq = eventSeq(head, 0, end);
              if (seq === undefined) other(head.toString('utf8', 0, end + 2));
              else {
                count += 1;
                if (seq !== count) ordered = false;
              }
              buf =
                end + 2 < head.length ? Buffer.concat([head.subarray(end + 2), chunk.subarray(upTo)]) : chunk;
              from = end + 2 < head.length ? 0 : upTo;
            }
            for (let end = buf.indexOf(blankLine, from); end !== -1; end = buf.indexOf(blankLine, from)) {
              const seq = eventSeq(buf, from, end);
              if (seq === undefined) other(buf.toString('utf8', from, end + 2));
              else {
                count += 1;
                if (seq !== count) ordered = false;
              }
              from = end + 2;
            }
            carry = buf.subarray(from);
          });
          res.on('end', () => {
            if (carry.length > 0) other(`${carry.toString('utf8')}\n\n`);
            resolve({ final, count, ordered });
          });
          res.on('error', reject);
        },
      );
      request.on('error', reject);
    });
  }

  return { headers, create, follow, followSeq };
}

const blankLine = Buffer.from('\n\n');
const eventHead = Buffer.from('id: 1:');
const eventLine = Buffer.from('\nevent: event\ndata: ');
const textTail = Buffer.from(',"data":{"text":"');

/**
 * The seq of a message `id: 1:<seq>\nevent: event\ndata: {...,"data":{"text":"<seq>"}}` (bytes
 * `from`..`end` of `buf`) when its id and its text are the same number; -1 when they differ;
 * undefined for any other message.
 */
function eventSeq(buf, from, end) {
  if (end - from < eventHead.length + eventLine.length) return undefined;
  if (buf.compare(eventHead, 0, eventHead.length, from, from + eventHead.length) !== 0) return undefined;
  let at = from + eventHead.length;
  let seq = 0;
  for (let c = buf[at]; c >= 48 && c <= 57; c = buf[++at]) seq = seq * 10 + c - 48;
  if (
    at + eventLine.length > end ||
    buf.compare(eventLine, 0, eventLine.length, at, at + eventLine.length) !== 0
  )
    return undefined;
  // Backwards from the end: `"}}`, the text's digits, then `,"data":{"text":"`.
  if (buf[end - 1] !== 125 || buf[end - 2] !== 125 || buf[end - 3] !== 34) return -1;
  let back = end - 4;
  let text = 0;
  for (let scale = 1; buf[back] >= 48 && buf[back] <= 57; back -= 1, scale *= 10)
    text += (buf[back] - 48) * scale;
  const head = back + 1 - textTail.length;
  if (head < at || buf.compare(textTail, 0, textTail.length, head, back + 1) !== 0) return -1;
  return text === seq ? seq : -1;
}

/**
 * An SSE stream's messages as `onMessage(event, data, id)`, fed text as it arrives: the fields
 * `event`, `data` (several lines joined by `\n`) and `id`, `:` comments skipped, lines ending in
 * `\n`, `\r\n` or `\r`, a blank line ending a message (`event` defaults to `message`; one with no
 * data is not dispatched; `id` is the message's own), as eventsource-parser has them (tested equal on
 * random streams cut anywhere). One `indexOf` per line and no string made for a field name: the
 * event benches' follower shares the cores with the hub and gateway it measures.
 */
export function sseReader(onMessage) {
  let rest = '';
  let event = '';
  let data;
  let id;
  const line = (text, from, to) => {
    if (from === to) {
      if (data !== undefined) onMessage(event || 'message', data, id);
      event = '';
      data = undefined;
      id = undefined;
      return;
    }
    if (text.charCodeAt(from) === 58) return; // `:` a comment
    let colon = text.indexOf(':', from);
    if (colon === -1 || colon > to) colon = to;
    const length = colon - from;
    let start = colon + 1;
    if (start < to && text.charCodeAt(start) === 32) start += 1;
    const value = () => (colon === to ? '' : text.slice(start, to));
    if (length === 4 && text.startsWith('data', from)) {
      data = data === undefined ? value() : `${data}\n${value()}`;
    } else if (length === 5 && text.startsWith('event', from)) event = value();
    else if (length === 2 && text.startsWith('id', from)) {
      const v = value();
      if (!v.includes('\0')) id = v;
    }
  };
  return (chunk) => {
    let text = rest + chunk;
    if (text.includes('\r')) {
      // A `\r` at the very end may be the first half of `\r\n`: kept for the next chunk.
      const keepCr = text.endsWith('\r');
      text = (keepCr ? text.slice(0, -1) : text).replace(/\r\n?/g, '\n') + (keepCr ? '\r' : '');
    }
    let from = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', from)) {
      line(text, from, end);
      from = end + 1;
    }
    rest = text.slice(from);
  };
}

/** Spawns `bin` directly and resolves with its trimmed stdout once it closes. */
export function direct(bin, args = []) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('close', () => resolve(out.trim()));
  });
}

/** Writes bench/results/<name>.json; returns its path. */
export function writeResults(name, results) {
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  const out = new URL(`results/${name}.json`, import.meta.url);
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  return fileURLToPath(out);
}
