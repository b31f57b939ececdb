// What the benches share: a throwaway GANTRY_HOME, the `gantry` CLI and long-running hub and gateway
// processes (all stopped when the bench ends), provider scripts, following an assignment's events
// over SSE, spawning a script directly, percentiles and the results file.
// Node flags for hub and gateway processes: BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';

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
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  async function create(agent, prompt = 'x') {
    const res = await fetch(`${url}/v1/assignments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ agent, prompt }),
    });
    if (!res.ok) throw new Error(`create: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** Follows an assignment's events until the end; returns the final assignment. */
  async function follow(id, onEvent) {
    const stream = await fetch(`${url}/v1/assignments/${id}/events`, {
      headers: { ...headers, accept: 'text/event-stream' },
    });
    let final;
    const parser = createParser({
      onEvent: (message) => {
        if (message.event === 'event') onEvent?.(message.data);
        else if (message.event === 'end') final = JSON.parse(message.data);
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of stream.body) parser.feed(decoder.decode(chunk, { stream: true }));
    return final;
  }

  return { headers, create, follow };
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
